#!/usr/bin/env python3
# Analysis of scripts/scs-tail-scan.sh output (stdlib only): per value mean excess ± s.e., seed-to-seed s.d., plateau q,
# and paired differences against the first value (same seeds = same networks).  Usage: scripts/scs-tail-analyse.py OUT/*.csv
import csv, sys, math, collections
def load(p):
    rows=[r for r in csv.reader(l for l in open(p) if not l.startswith('#'))]
    h=rows[0]; return [dict(zip(h,map(float,r))) for r in rows[1:]]
def ms(xs):
    m=sum(xs)/len(xs); sd=math.sqrt(sum((x-m)**2 for x in xs)/(len(xs)-1)); return m,sd,sd/math.sqrt(len(xs))
for p in sys.argv[1:]:
    R=load(p); print('==',p)
    vals=sorted(set(r['value'] for r in R)); lags=sorted(set(r['lag'] for r in R))
    base=None
    for v in vals:
        line=[]
        q=[r['plateau'] for r in R if r['value']==v and r['lag']==lags[0]]
        qm,qsd,qse=ms(q)
        for L in lags:
            e={int(r['seed']):r['excess'] for r in R if r['value']==v and r['lag']==L}
            m,sd,se=ms(list(e.values()))
            line.append('E(%.1f)=%+.3f±%.3f sd %.3f'%(L,m,se,sd))
        print('%-6g S=%d q=%.3f±%.3f  '%(v,len(q),qm,qse)+'  '.join(line))
    # paired differences vs first value
    if len(vals)>1:
        for v in vals[1:]:
            line=[]
            for L in lags:
                a={int(r['seed']):r['excess'] for r in R if r['value']==vals[0] and r['lag']==L}
                b={int(r['seed']):r['excess'] for r in R if r['value']==v and r['lag']==L}
                common=sorted(set(a)&set(b))
                if len(common)<2: continue
                d=[b[s]-a[s] for s in common]; m,sd,se=ms(d)
                # correlation
                ma=sum(a[s] for s in common)/len(common); mb=sum(b[s] for s in common)/len(common)
                c=sum((a[s]-ma)*(b[s]-mb) for s in common)/math.sqrt(sum((a[s]-ma)**2 for s in common)*sum((b[s]-mb)**2 for s in common))
                line.append('d(%.1f)=%+.3f±%.3f corr %.2f'%(L,m,se,c))
            print('  paired %g - %g: '%(v,vals[0])+'  '.join(line))
