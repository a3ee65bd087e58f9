#!/bin/bash
# $1 = core, $2 = binary, $3 = outdir; runs half of the 16 seeds
B=$2; mkdir -p $3
for pt in "1.5 1" "2 0.8" "2.5 1" "3 1"; do set -- $1 $B $3 $pt; g=$4; ga=$5
 for s in 1 2 3 4; do if [ $(( (s + ${g%.*}) % 2 )) -ne $1 ]; then continue; fi
  THEORY_DEBUG=1 THEORY_JUMPNOISE=$JN DOTNET_PROCESSOR_COUNT=1 taskset -c $1 $B dmft saddle --g $g --gamma $ga --seed $s --no-bias-check --json > $3/g${g}_ga${ga}_s$s.json 2> $3/g${g}_ga${ga}_s$s.err
 done; done
