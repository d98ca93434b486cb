;; Query-time kernels of the IVF-PQ index, in WebAssembly with 128-bit SIMD.
;; JavaScript runs these loops at well under 1 G multiply-adds/s; here they run several times
;; faster, which is what keeps a million-vector query within a few milliseconds.
;; Build: npm run build:wasm (writes kernels.wasm.ts; a test checks the two agree).
(module
  (memory (export "memory") 1)

  ;; out[j] = dot(q, rows[j]) for j < n; rows are d floats apart; d must be a multiple of 8.
  (func (export "dots") (param $q i32) (param $rows i32) (param $n i32) (param $d i32) (param $out i32)
    (local $j i32) (local $i i32) (local $bytes i32) (local $row i32) (local $a v128) (local $b v128)
    (local.set $bytes (i32.shl (local.get $d) (i32.const 2)))
    (local.set $row (local.get $rows))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $a (v128.const f32x4 0 0 0 0))
        (local.set $b (v128.const f32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $end
          (loop $inner
            (br_if $end (i32.ge_u (local.get $i) (local.get $bytes)))
            (local.set $a (f32x4.add (local.get $a)
              (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $i)))
                         (v128.load (i32.add (local.get $row) (local.get $i))))))
            (local.set $b (f32x4.add (local.get $b)
              (f32x4.mul (v128.load offset=16 (i32.add (local.get $q) (local.get $i)))
                         (v128.load offset=16 (i32.add (local.get $row) (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 32)))
            (br $inner)))
        (local.set $a (f32x4.add (local.get $a) (local.get $b)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
            (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
        (local.set $row (i32.add (local.get $row) (local.get $bytes)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each))))

  ;; Asymmetric distances: out[i] = base + terms[i] + sum over s < m of table[s*256 + codes[i*m + s]].
  ;; m must be a multiple of 4.
  (func (export "adc") (param $table i32) (param $codes i32) (param $terms i32) (param $n i32) (param $m i32) (param $base f32) (param $out i32)
    (local $i i32) (local $s i32) (local $c i32) (local $t i32)
    (local $a f32) (local $b f32) (local $e f32) (local $f f32)
    (local.set $c (local.get $codes))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (f32.const 0))
        (local.set $b (f32.const 0))
        (local.set $e (f32.const 0))
        (local.set $f (f32.const 0))
        (local.set $s (i32.const 0))
        (local.set $t (local.get $table))
        (block $end
          (loop $inner
            (br_if $end (i32.ge_u (local.get $s) (local.get $m)))
            (local.set $a (f32.add (local.get $a) (f32.load (i32.add (local.get $t)
              (i32.shl (i32.load8_u (i32.add (local.get $c) (local.get $s))) (i32.const 2))))))
            (local.set $b (f32.add (local.get $b) (f32.load offset=1024 (i32.add (local.get $t)
              (i32.shl (i32.load8_u offset=1 (i32.add (local.get $c) (local.get $s))) (i32.const 2))))))
            (local.set $e (f32.add (local.get $e) (f32.load offset=2048 (i32.add (local.get $t)
              (i32.shl (i32.load8_u offset=2 (i32.add (local.get $c) (local.get $s))) (i32.const 2))))))
            (local.set $f (f32.add (local.get $f) (f32.load offset=3072 (i32.add (local.get $t)
              (i32.shl (i32.load8_u offset=3 (i32.add (local.get $c) (local.get $s))) (i32.const 2))))))
            (local.set $t (i32.add (local.get $t) (i32.const 4096)))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (br $inner)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.add (f32.add (local.get $base) (f32.load (i32.add (local.get $terms) (i32.shl (local.get $i) (i32.const 2)))))
                   (f32.add (f32.add (local.get $a) (local.get $b)) (f32.add (local.get $e) (local.get $f)))))
        (local.set $c (i32.add (local.get $c) (local.get $m)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  ;; out[i] = squared distance between q (f32) and the float16 rows h[i] (d halves each, records
  ;; stride bytes apart), for i < n; d must be a multiple of 4. Halves are widened with a table of
  ;; 65,536 floats at $lut.
  (func (export "l2half") (param $q i32) (param $h i32) (param $n i32) (param $d i32) (param $stride i32) (param $lut i32) (param $out i32)
    (local $i i32) (local $k i32) (local $row i32) (local $acc f32) (local $x f32) (local $y f32) (local $qp i32)
    (local.set $row (local.get $h))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (f32.const 0))
        (local.set $k (i32.const 0))
        (local.set $qp (local.get $q))
        (block $end
          (loop $inner
            (br_if $end (i32.ge_u (local.get $k) (local.get $d)))
            (local.set $x (f32.sub (f32.load (local.get $qp))
              (f32.load (i32.add (local.get $lut) (i32.shl (i32.load16_u (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 1)))) (i32.const 2))))))
            (local.set $y (f32.sub (f32.load offset=4 (local.get $qp))
              (f32.load (i32.add (local.get $lut) (i32.shl (i32.load16_u offset=2 (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 1)))) (i32.const 2))))))
            (local.set $acc (f32.add (local.get $acc) (f32.add (f32.mul (local.get $x) (local.get $x)) (f32.mul (local.get $y) (local.get $y)))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 8)))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br $inner)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $acc))
        (local.set $row (i32.add (local.get $row) (local.get $stride)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))
)
