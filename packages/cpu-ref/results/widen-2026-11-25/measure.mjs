import { decompress, nmPattern, randomCompressed, randomDense } from '@nmkit/format';
import { createCpuBackend } from '../../dist/index.js';
const auto = await createCpuBackend();
const never = await createCpuBackend({ widen: 'never' });
for (const [m, n, k] of [[256, 2048, 2048], [16, 4096, 4096]]) {
  const a = randomDense(m, k, 1);
  for (const p of [nmPattern(2, 4), nmPattern(4, 8), nmPattern(16, 32)]) {
    const sparse = randomCompressed(k, n, p, 2);
    const wa = await auto.prepare(sparse), wn = await never.prepare(sparse), wd = await never.prepareDense(decompress(sparse));
    const t = async (b, w) => (await b.time(a, w, { warmup: 1, repeats: 5 })).medianMs;
    const rows = [];
    for (let r = 0; r < 2; r++) rows.push([await t(never, wn), await t(auto, wa), await t(never, wd)]);
    const best = (i) => Math.min(...rows.map((x) => x[i]));
    console.log(`${m}x${n}x${k} ${p.keep}:${p.group} V=1  general ${best(0).toFixed(2)} ms  widened ${best(1).toFixed(2)} ms  dense ${best(2).toFixed(2)} ms  (${(best(0) / best(1)).toFixed(2)}x faster)`);
    wa.dispose(); wn.dispose(); wd.dispose();
  }
}
await auto.dispose(); await never.dispose();
