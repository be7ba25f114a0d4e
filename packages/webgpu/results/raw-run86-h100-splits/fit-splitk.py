# Split-K choices of one-vector tiles against run 86 (python3 fit-splitk.py webgpu-bench-splits.json, from this folder):
# waveSplitK ported, the slot model and slice cost varied; each choice looked up in the measured times per split.
import json,re,math,sys
specs={(r['shape'],r['pattern']):r for r in json.load(open('default-specs.json'))}
d=json.load(open(sys.argv[1]))
meas={}
for r in d['rows']:
    t={}
    for e in r['tuned']:
        m=re.search(r'split-K (\d+)',e['kernel']); s=int(m.group(1)) if m else 1
        key='1t' if ('tail' in e['kernel'] and s==1) else s
        t.setdefault(key,e['medianMs'])
    meas[(r['shape'],r['pattern'])]=t
def waveTail(rb,cb,stages,slots):
    tiles=rb*cb; last=tiles%slots
    if tiles<=slots or last==0: return None
    rows=math.ceil(last/cb)
    if rows*cb>slots/2 or rows>=rb: return None
    splits=min(4,slots//(rows*cb))
    while splits>=2 and stages/splits<4: splits-=1
    return (rows,splits) if splits>=2 else None
def waveSplitK(tiles,stages,slots,waves=1,c=3):
    if tiles>waves*slots: return 1
    best=1;bc=1e18
    s=1
    while s<=8 and (s==1 or stages/s>=4):
        cost=math.ceil(tiles*s/slots)*(math.ceil(stages/s)+1)+(c*s if s>1 else 0)
        if cost<bc: best=s;bc=cost
        s+=1
    return best
def perUnit(r,reserve=0,regs=None):
    bymem=49152//(r['shared']+reserve)
    byinv=2048//r['WG']
    R=regs if regs else 128
    byreg=65536//(r['WG']*R)
    return max(1,min(bymem,byinv,byreg))
def choose(r,reserve=0,regs=None,waves=2,c=3):
    slots=132*perUnit(r,reserve,regs)
    rb=math.ceil(int(r['shape'].split('×')[0])/r['BM']); cb=r['tiles']//rb
    tail=waveTail(rb,cb,r['stages'],slots)
    s=waveSplitK(r['tiles'],r['stages'],slots,waves if not tail else 1,c)
    m=int(r['shape'].split('×')[0])
    if m<=64: pass
    if s==1 and tail: return '1t'
    return s
def lookup(t,s):
    if s in t: return t[s]
    if s=='1t': return t.get(1)
    ks=[k for k in t if k!='1t']; k=min(ks,key=lambda k:abs(k-s)); return t[k]
def evaluate(label,**kw):
    logs=[];worst=(0,None);rows=[]
    for key,r in specs.items():
        t=meas.get(key)
        if not t: continue
        s=choose(r,**kw); got=lookup(t,s); best=min(t.values())
        ratio=got/best; logs.append(math.log(ratio))
        if ratio>worst[0]: worst=(ratio,key,s)
        rows.append((key,s,ratio))
    gm=math.exp(sum(logs)/len(logs))
    bad=sum(1 for x in rows if x[2]>1.05)
    print(f"{label:40} geo {gm:.4f} worst {worst[0]:.3f} {worst[1]} s={worst[2]}  >5%: {bad}/{len(rows)}")
    return rows
base=evaluate('current (as coded)')
for reserve in [0,1024]:
  for regs in [None,154,168]:
    for waves in [1,2]:
      for c in [3,6,10]:
        evaluate(f'reserve {reserve} regs {regs} waves {waves} c {c}',reserve=reserve,regs=regs,waves=waves,c=c)
print('---')
for waves in [1,2]:
    for c in [3,4,5,6,7,8,10,12,16]:
        evaluate(f'waves {waves} c {c}',waves=waves,c=c)
rows=evaluate('waves 2 c 8',waves=2,c=8)
for key,s,ratio in rows:
    if ratio>1.03: print('  ',key,s,round(ratio,3), {k:round(v,3) for k,v in meas[key].items()})
