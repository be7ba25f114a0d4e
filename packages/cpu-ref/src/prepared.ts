import type { CompressedNM, DenseMatrix, NMPattern, PreparedWeights } from '@nmkit/format';

/** Weights held in host memory by a CPU backend: the compressed matrix, or a dense one for the baseline. */
export class HostWeights implements PreparedWeights {
  private released = false;

  constructor(
    readonly backend: string,
    readonly kind: 'nm' | 'dense',
    readonly rows: number,
    readonly cols: number,
    readonly pattern: NMPattern | undefined,
    readonly sparse: CompressedNM | undefined,
    readonly dense: DenseMatrix | undefined,
    readonly bytes: number,
  ) {}

  get disposed(): boolean {
    return this.released;
  }

  dispose(): void {
    this.released = true;
  }
}
