# Split-K choices of one-vector tiles on runs 86 and 87 under each slice-cost rule tried (python3
# evaluate-slice-cost.py, from this folder); 'fill warps 4' is the rule the library keeps (c81c9a3).
import json,sys,math,re
# Run 86's file stands in for the loaders' own argument (the data they load here is unused).
sys.argv=sys.argv[:1]+['../raw-run86-h100-splits/webgpu-bench-splits.json']
def load(path,specpath):
    specs={(r['shape'],r['pattern']):r for r in json.load(open(specpath))}
    d=json.load(open(path)); meas={}
    for r in d['rows']:
        t={}
        def key(k):
            m=re.search(r'split-K (\d+)',k); s=int(m.group(1)) if m else 1
            return '1t' if ('tail' in k and s==1) else s
        for e in r['tuned']: t.setdefault(key(e['kernel']),e['medianMs'])
        for e in r['retimed']:
            if e.get('verified',True): t[key(e['kernel'])]=e['medianMs']
        meas[(r['shape'],r['pattern'])]=t
    return specs,meas
src1=open('../raw-run86-h100-splits/fit-splitk.py').read().split("specs={")[0]
ns1={}; exec(open('../raw-run86-h100-splits/fit-splitk.py').read().split("base=evaluate")[0].replace("specs={(r['shape'],r['pattern']):r for r in json.load(open('../raw-run86-h100-splits/default-specs.json'))}","specs={}").replace("d=json.load(open(sys.argv[1]))","d={'rows':[]}"),ns1)
ns2={}; exec(open('fit-bytes-model.py').read().split("for wsat in")[0].replace("specs={(r['shape'],r['pattern']):r for r in json.load(open('../raw-run86-h100-splits/default-specs.json'))}","specs={}").replace("d=json.load(open(sys.argv[1]))","d={'rows':[]}"),ns2)
def lookup(t,s):
    if s in t: return t[s]
    if s=='1t': return t[1]
    ks=[k for k in t if k!='1t']; k=min(ks,key=lambda k:abs(k-s)); return t[k]
def ev(label,specs,meas,choose,show=False):
    logs=[];rows=[]
    for key,r in specs.items():
        t=meas.get(key)
        if not t: continue
        s=choose(r,t); ratio=lookup(t,s)/min(t.values()); logs.append(math.log(ratio)); rows.append((key,s,ratio))
    print(f"  {label:34} geo {math.exp(sum(logs)/len(logs)):.4f} worst {max(r[2] for r in rows):.3f} >5%: {sum(r[2]>1.05 for r in rows)}/{len(rows)}")
    return rows
models={
 'current (c=3, 2 waves)': lambda r,t: ns1['choose'](r),
 'c=6': lambda r,t: ns1['choose'](r,c=6),
 'c=8': lambda r,t: ns1['choose'](r,c=8),
 'bytes 12/10/1.6': lambda r,t: ('1t' if '1t' in t else 1) if r['tail'] else ns2['choose'](r,wsat_warps=12,fixed_us=10,eff=1.6),
 'bytes 12/20/1.2': lambda r,t: ('1t' if '1t' in t else 1) if r['tail'] else ns2['choose'](r,wsat_warps=12,fixed_us=20,eff=1.2),
 'bytes 8/10/1.2': lambda r,t: ('1t' if '1t' in t else 1) if r['tail'] else ns2['choose'](r,wsat_warps=8,fixed_us=10,eff=1.2),
 'bytes 16/10/1.6': lambda r,t: ('1t' if '1t' in t else 1) if r['tail'] else ns2['choose'](r,wsat_warps=16,fixed_us=10,eff=1.6),
}
for path,sp in [('../raw-run86-h100-splits/webgpu-bench-splits.json','../raw-run86-h100-splits/default-specs.json'),('webgpu-bench-splits.json','default-specs.json')]:
    specs,meas=load(path,sp); print(path)
    for k,f in models.items(): ev(k,specs,meas,f)
RUNS=[('../raw-run86-h100-splits/webgpu-bench-splits.json','../raw-run86-h100-splits/default-specs.json'),('webgpu-bench-splits.json','default-specs.json')]
def split_for(tiles,stages,slots,waves,slice_cost,tie_more=False):
    """waveSplitK with the stages a slice costs as a function of the split."""
    if tiles>waves*slots: return 1
    best=1;bc=1e18;s=1
    while s<=8 and (s==1 or stages/s>=4):
        cost=math.ceil(tiles*s/slots)*(math.ceil(stages/s)+1)+(slice_cost(s)*s if s>1 else 0)
        if cost<bc or (tie_more and cost==bc): best=s;bc=cost
        s+=1
    return best
def rule(cost_for,tie_more=False):
    """A chooser: cost_for(r) gives the slice cost by split for problem r; the wave tail as the library has it."""
    def f(r,t):
        slots=132*ns1['perUnit'](r)
        rb=math.ceil(int(r['shape'].split('×')[0])/r['BM']); cb=r['tiles']//rb
        tail=ns1['waveTail'](rb,cb,r['stages'],slots)
        s=split_for(r['tiles'],r['stages'],slots,1 if tail else 2,cost_for(r),tie_more)
        return '1t' if (s==1 and tail) else s
    return f
constant=lambda c: (lambda r: (lambda s: c))
by_fraction=lambda frac: (lambda r: (lambda s: 3 if r['tiles']<=frac*132*ns1['perUnit'](r) else 8))
by_workgroups=lambda k: (lambda r: (lambda s: 3 if r['tiles']*s<=k*132 else 8))
by_warps=lambda k: (lambda r: (lambda s: 3 if r['tiles']*s*(r['WG']//32)<=k*132 else 8))
sections=[
  ('constant slice cost (ties to more slices or not)',[(f'c={c} tie->more {tie}',rule(constant(c),tie)) for c in [3,6,7,7.5,8,9,10] for tie in [False,True]]),
  ('3 below a fraction of the slots, else 8',[(f'hybrid frac {f}',rule(by_fraction(f))) for f in [0.15,0.25,0.3,0.35,0.5,0.75]]),
  ('3 up to k workgroups per SM, else 8',[(f'fill k {k}',rule(by_workgroups(k))) for k in [1,2,3,4,6]]),
  ('3 up to k warps per SM, else 8 (kept: k = 4)',[(f'fill warps {k}',rule(by_warps(k))) for k in [2,3,4,5,6,8]]),
]
for title,models in sections:
    print('---',title)
    for path,sp in RUNS:
        specs,meas=load(path,sp); print(path)
        for label,f in models: ev(label,specs,meas,f)
print('--- what the kept rule changes against three stages a slice, and its worst choices')
for path,sp in RUNS:
    specs,meas=load(path,sp)
    a=ev('c=3',specs,meas,rule(constant(3))); b=ev('fill warps 4',specs,meas,rule(by_warps(4)))
    for x,y in zip(a,b):
        if x[1]!=y[1]:
            t=meas[x[0]]; print('   ',x[0],'s',x[1],'->',y[1], '%.3f -> %.3f ms'%(lookup(t,x[1]),lookup(t,y[1])), 'change %+.1f%%'%(100*(lookup(t,y[1])/lookup(t,x[1])-1)))
    for k,s,r in sorted(b,key=lambda x:-x[2])[:3]: print('    worst',k,s,round(r,3),{a:round(v,3) for a,v in meas[k].items()})
