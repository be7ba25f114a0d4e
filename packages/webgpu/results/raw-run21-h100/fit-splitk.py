# Run 21 split-K fit: python3 fit-splitk.py (in this folder). planner-splitk.json: the planner's split-K per problem
# (backendPlan of candidatePlans()[0] with 128 compute units), splitk-webgpu-bench.json: every split-K timed.
import json,re,math,itertools,sys,lzma
d=json.load(lzma.open('splitk-webgpu-bench.json.xz'))  # kept xz-compressed in the repository
probs=[]
for r in d['rows']:
    if r['backend']!='webgpu': continue
    m,n,k=map(int,r['shape'].split('×'))
    times={}; geo=None
    for t in r['tuned']:
        kk=t['kernel']
        if 'tail' in kk: continue
        g=re.search(r'(\d+)×(\d+)×(\d+) \((\d+)×(\d+)/invocation, (\d+) inv',kk)
        s=int(re.search(r'split-K (\d+)',kk).group(1))
        key=g.groups()
        if geo is None: geo=key
        if key!=geo: continue
        times.setdefault(s,t['medianMs'])
    bm,bn,bk,tm,tn,inv=map(int,geo)
    per=3 if (bm==64 and (((tm,tn,inv)==(8,4,256) and r['pattern']=='4:32') or (tm,tn,inv)==(8,8,128))) else 2
    tiles=math.ceil(m/bm)*math.ceil(n/bn); stages=math.ceil(k/bk)
    probs.append(dict(key=f"{r['shape']} {r['pattern']}",geo=geo,tiles=tiles,stages=stages,slots=132*per,times=times,mn=m*n))
def pick(p,s):
    av=sorted(p['times']); le=[x for x in av if x<=s]
    return le[-1] if le else av[0]
def choose(p,c0,c1,c2):
    best=None
    for s in p['times']:
        items=p['tiles']*s
        cost=math.ceil(items/p['slots'])*(math.ceil(p['stages']/s)+c0) + ((c1*s+c2) if s>1 else 0)
        if best is None or cost<best[0]: best=(cost,s)
    return best[1]
def score_fn(f):
    l=[]
    for p in probs:
        s=pick(p,f(p)); l.append(math.log(min(p['times'].values())/p['times'][s]))
    return math.exp(sum(l)/len(l))
def wave(p):
    sl=1
    for s in range(2,9):
        if p['tiles']*s<=p['slots'] and p['stages']/s>=4: sl=s
    return sl
print('waveSplitK', score_fn(wave), 'n', len(probs))
res=[]
for c0 in [0,1,2,3,4,6,8,12,16]:
  for c1 in [0,0.5,1,2,4,8]:
    for c2 in [0,1,2,4,8,16]:
      res.append((score_fn(lambda p: choose(p,c0,c1,c2)),c0,c1,c2))
res.sort(reverse=True); print(res[:8])
# leave-one-shape-out CV
shapes=sorted(set(p['key'].split()[0] for p in probs))
grid=[(c0,c1,c2) for c0 in [0,1,2,3,4,6,8] for c1 in [0,0.5,1,2,3,4,6,8] for c2 in [0,1,2,4,8]]
allp=probs
cv=[]
for sh in shapes:
    train=[p for p in allp if not p['key'].startswith(sh+' ')]
    test=[p for p in allp if p['key'].startswith(sh+' ')]
    def sc(ps,c):
        l=[math.log(min(p['times'].values())/p['times'][pick(p,choose(p,*c))]) for p in ps]; return sum(l)/len(l)
    bestc=max(grid,key=lambda c: sc(train,c))
    cv+= [math.log(min(p['times'].values())/p['times'][pick(p,choose(p,*bestc))]) for p in test]
    print(sh,bestc, round(math.exp(sc(test,bestc)),3))
print('CV', math.exp(sum(cv)/len(cv)))
for c in [(0,4,0),(0,4,8),(2,2,2),(0,2,4),(1,3,0),(0,3,0)]:
    print(c, round(score_fn(lambda p: choose(p,*c)),4))
# planner
ps=json.load(open('planner-splitk.json'))
l=[]
for p in probs:
    s=pick(p,ps[p['key']]); l.append(math.log(min(p['times'].values())/p['times'][s]))
print('planner', math.exp(sum(l)/len(l)))
print('---- restricted: tiles > slots -> 1')
def choose2(p,c0,c1,c2):
    if p['tiles']>p['slots']: return 1
    best=None
    for s in range(1,9):
        if s>1 and p['stages']/s<4: break
        cost=math.ceil(p['tiles']*s/p['slots'])*(math.ceil(p['stages']/s)+c0) + ((c1*s+c2) if s>1 else 0)
        if best is None or cost<best[0]-1e-9: best=(cost,s)
    return best[1]
for c in [(1,3,0),(0,4,0),(0,3,0),(1,2,0),(2,3,0),(1,4,0)]:
    print(c, round(score_fn(lambda p: choose2(p,*c)),4))
for p in probs:
    if p['tiles']>p['slots']: print('big', p['key'], p['tiles'], p['slots'])
print('---- the implemented model (waveSplitK: grids over one wave run whole; s = 1..8; c0 = 1, c1 = 3, c2 = 0)')
print('in-sample', round(score_fn(lambda p: choose2(p, 1, 3, 0)), 4))
cv2 = []
for sh in shapes:
    train = [p for p in allp if not p['key'].startswith(sh + ' ')]
    test = [p for p in allp if p['key'].startswith(sh + ' ')]
    sc = lambda ps, c: sum(math.log(min(p['times'].values()) / p['times'][pick(p, choose2(p, *c))]) for p in ps) / len(ps)
    bestc = max(grid, key=lambda c: sc(train, c))
    cv2 += [math.log(min(p['times'].values()) / p['times'][pick(p, choose2(p, *bestc))]) for p in test]
print('leave-one-shape-out', round(math.exp(sum(cv2) / len(cv2)), 4))
