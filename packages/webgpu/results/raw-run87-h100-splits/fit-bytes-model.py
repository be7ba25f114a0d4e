# A split-K cost in seconds (the stage work against the partials' bytes) for one-vector tiles, swept over its three
# constants (python3 fit-bytes-model.py ../raw-run86-h100-splits/webgpu-bench-splits.json, from this folder).
import math,re,sys
# Problems and measured times per split: the loader of run 86's fit script.
exec(open('../raw-run86-h100-splits/fit-splitk.py').read().split('def waveTail')[0].replace("'default-specs.json'", "'../raw-run86-h100-splits/default-specs.json'"))
def lookup(t,s):
    if s in t: return t[s]
    ks=[k for k in t if k!='1t']; k=min(ks,key=lambda k:abs(k-s)); return t[k]
SM=132
def model_time(r,s,wsat_warps,fixed_us,eff,bw=2.4e12):
    M,N,K=[int(x) for x in r['shape'].split('×')]
    keep=int(r['pattern'].split(':')[0])
    bk=int(re.search(r'×32×(\d+)',r['name']).group(1))
    kept=bk*keep//32
    warps=r['WG']//32
    wsat=max(1,wsat_warps/warps)
    slots=SM*r['perUnit']
    n=r['tiles']*s
    waves=[]
    while n>0:
        take=min(n,slots); waves.append(math.ceil(take/SM)); n-=take
    stage_units=sum(max(w,wsat) for w in waves)*math.ceil(r['stages']/s)
    c0=r['BM']*32*kept/(128*1.98e9*eff)
    t=stage_units*c0
    if s>1: t+=2*s*M*N*4/bw+fixed_us*1e-6
    return t
def choose(r,**kw):
    best=None
    s=1
    while s<=8 and (s==1 or r['stages']/s>=4):
        t=model_time(r,s,**kw)
        if best is None or t<best[1]: best=(s,t)
        s+=1
    return best[0]
def evaluate(label,**kw):
    logs=[];rows=[];worst=(0,)
    for key,r in specs.items():
        t=meas.get(key)
        if not t: continue
        if r['tail']: s='1t' if '1t' in t else 1
        else: s=choose(r,**kw)
        got=t[s] if s in t else lookup(t,s); best=min(t.values()); ratio=got/best
        logs.append(math.log(ratio)); rows.append((key,s,ratio))
        if ratio>worst[0]: worst=(ratio,key,s)
    gm=math.exp(sum(logs)/len(logs)); bad=sum(1 for x in rows if x[2]>1.05)
    print(f"{label:44} geo {gm:.4f} worst {worst[0]:.3f} {worst[1]} s={worst[2]} >5%: {bad}")
    return rows
for wsat in [2,4,6,8,12,16]:
    for fixed in [0,3,6,10]:
        for eff in [0.5,0.7]:
            evaluate(f'wsat {wsat} warps fixed {fixed}us eff {eff}',wsat_warps=wsat,fixed_us=fixed,eff=eff)
