"""A synthetic activation store for the streaming benchmark: N samples of three layers
(512, 1024 and 256 features, float32) sharing a 64-dimensional signal, in shards of
25 000 samples with the index repprobe reads (usage: make_store.py N STEM)."""
import numpy as np, json, sys
from safetensors.numpy import save_file
n=int(sys.argv[1]); stem=sys.argv[2]; per=25000
widths={"conv":512,"block":1024,"head":256}
rng=np.random.default_rng(0)
basis=rng.standard_normal((64,1792)).astype(np.float32)
shards=[]; k=0; count=(n+per-1)//per
for start in range(0,n,per):
    m=min(per,n-start); k+=1
    z=rng.standard_normal((m,64)).astype(np.float32)@basis + 0.5*rng.standard_normal((m,1792)).astype(np.float32)
    t={"sample_ids":np.arange(start,start+m,dtype=np.int64)}; o=0
    for name,w in widths.items(): t[name]=np.ascontiguousarray(z[:,o:o+w]); o+=w
    f=f"{stem}-{k:05d}-of-{count:05d}.safetensors"; save_file(t,f); shards.append({"file":f,"rows":m})
idx={"format":"repprobe-array-shards","version":1,"rows":n,"arrays":[{"name":"sample_ids","dtype":"I64","row_shape":[]}]+[{"name":a,"dtype":"F32","row_shape":[w]} for a,w in widths.items()],"shards":shards}
json.dump(idx,open(f"{stem}.safetensors.index.json","w"))
