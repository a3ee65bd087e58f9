namespace Theory.Core.Numerics

open System

/// Tables of the 256-layer ziggurat for the standard normal (Marsaglia &amp; Tsang 2000, in the form of Doornik 2005,
/// "An improved ziggurat method to generate normal random samples"): layer boundaries X[0..256] (X[0] = V/f(R) the
/// base strip's width, X[1] = R, X[256] = 0, f(x) = exp(−x²/2)) and the ratios X[i+1]/X[i] of the fast test. R is
/// Marsaglia–Tsang's tail start for 256 layers; the common layer area V is computed from R to double precision,
/// V = R f(R) + √(π/2) erfc(R/√2), so that every layer has the same area up to rounding (tested).
module internal ZigguratTables =
    let layers = 256
    let tailStart = 3.6541528853610088
    let layerArea =
        tailStart * Math.Exp(-0.5 * tailStart * tailStart)
        + Math.Sqrt(Math.PI / 2.0) * MathNet.Numerics.SpecialFunctions.Erfc(tailStart / Math.Sqrt 2.0)
    let x =
        let x = Array.zeroCreate (layers + 1)
        let mutable f = Math.Exp(-0.5 * tailStart * tailStart)
        x.[0] <- layerArea / f
        x.[1] <- tailStart
        for i in 2 .. layers - 1 do
            x.[i] <- Math.Sqrt(-2.0 * Math.Log(layerArea / x.[i - 1] + f))
            f <- Math.Exp(-0.5 * x.[i] * x.[i])
        x.[layers] <- 0.0
        x
    let ratio = Array.init layers (fun i -> x.[i + 1] / x.[i])

/// Seeded pseudo-random generator: xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64.
/// Same seed, same bits, on every platform and .NET version (unlike System.Random). Not thread-safe: give each
/// parallel task its own generator from <see cref="Rng.ForStream"/>.
[<Sealed; AllowNullLiteral>]
type Rng(seed: uint64) =
    let mutable s0 = 0UL
    let mutable s1 = 0UL
    let mutable s2 = 0UL
    let mutable s3 = 0UL
    let mutable hasSpare = false
    let mutable spare = 0.0
    // the ziggurat tables, held per generator (a module value is read through a property call on every access)
    let zigX = ZigguratTables.x
    let zigRatio = ZigguratTables.ratio
    do
        let mutable x = seed
        let next () =
            x <- x + 0x9E3779B97F4A7C15UL
            let mutable z = x
            z <- (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
            z <- (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
            z ^^^ (z >>> 31)
        s0 <- next ()
        s1 <- next ()
        s2 <- next ()
        s3 <- next ()

    /// A generator for an integer seed (negative seeds are allowed and distinct).
    new(seed: int64) = Rng(uint64 seed)
    new(seed: int) = Rng(uint64 (int64 seed))

    /// An independent stream for (seed, stream): used to give every ensemble member / worker its own generator,
    /// so results do not depend on the number of threads.
    static member ForStream(seed: int64, stream: int64) =
        let mix (z: uint64) =
            let mutable z = z + 0x9E3779B97F4A7C15UL
            z <- (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
            z <- (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
            z ^^^ (z >>> 31)
        Rng(mix (uint64 seed) ^^^ mix (mix (uint64 stream + 0x632BE59BD9B4E019UL)))

    /// 64 random bits.
    member _.NextUInt64() : uint64 =
        let result = (Numerics.BitOperations.RotateLeft(s1 * 5UL, 7)) * 9UL
        let t = s1 <<< 17
        s2 <- s2 ^^^ s0
        s3 <- s3 ^^^ s1
        s1 <- s1 ^^^ s2
        s0 <- s0 ^^^ s3
        s2 <- s2 ^^^ t
        s3 <- Numerics.BitOperations.RotateLeft(s3, 45)
        result

    /// Uniform on [0, 1) with 53 random bits.
    member this.NextDouble() = float (this.NextUInt64() >>> 11) * (1.0 / 9007199254740992.0)

    /// Uniform integer in [0, n).
    member this.NextInt(n: int) =
        if n <= 0 then invalidArg "n" "n must be >= 1"
        int ((this.NextUInt64() >>> 11) % uint64 n)

    /// Standard normal deviate (Marsaglia polar method; deterministic given the seed).
    member this.NextGaussian() =
        if hasSpare then
            hasSpare <- false
            spare
        else
            let mutable u = 0.0
            let mutable v = 0.0
            let mutable s = 0.0
            let mutable ok = false
            while not ok do
                u <- 2.0 * this.NextDouble() - 1.0
                v <- 2.0 * this.NextDouble() - 1.0
                s <- u * u + v * v
                ok <- s > 0.0 && s < 1.0
            let m = Math.Sqrt(-2.0 * Math.Log s / s)
            spare <- v * m
            hasSpare <- true
            u * m

    /// Standard normal deviate by the 256-layer ziggurat (Marsaglia &amp; Tsang 2000; Doornik 2005's form, with the
    /// layer index from the low 8 bits and the uniform from the high 53 bits of the same 64-bit draw, so the two are
    /// independent): exact (rejection from the normal density, with Marsaglia's exact tail beyond R = 3.654…), about
    /// five times cheaper than <see cref="NextGaussian"/> in a fill (RngBench; one 64-bit draw and one comparison for
    /// 99% of deviates, no logarithm). A different stream from NextGaussian for the same seed; deterministic given the
    /// seed.
    member this.NextGaussianZiggurat() =
        let bits = this.NextUInt64()
        let i = int (bits &&& 255UL)
        let u = 2.0 * (float (bits >>> 11) * (1.0 / 9007199254740992.0)) - 1.0
        // the fast path (≈ 99% of deviates): inside layer i's rectangle, under the density
        if Math.Abs u < zigRatio.[i] then u * zigX.[i] else this.ZigguratRest(i, u)

    /// The rest of NextGaussianZiggurat for a draw (layer i, uniform u ∈ [−1, 1)) outside layer i's inner rectangle:
    /// the tail (i = 0) or the wedge test, then fresh draws until one is accepted.
    member private this.ZigguratRest(i0: int, u0: float) =
        let x = zigX
        let ratio = zigRatio
        let mutable i = i0
        let mutable u = u0
        let mutable result = 0.0
        let mutable fin = false
        let mutable first = true
        while not fin do
            if not first then
                let bits = this.NextUInt64()
                i <- int (bits &&& 255UL)
                u <- 2.0 * (float (bits >>> 11) * (1.0 / 9007199254740992.0)) - 1.0
            first <- false
            if Math.Abs u < ratio.[i] then
                result <- u * x.[i]
                fin <- true
            elif i = 0 then
                // the tail |z| > R (Marsaglia 1964): exact, by rejection from a shifted exponential
                let r = ZigguratTables.tailStart
                let mutable t = 0.0
                let mutable y = 0.0
                let mutable accept = false
                while not accept do
                    // uniforms in (0, 1]: no log of zero
                    t <- Math.Log(1.0 - this.NextDouble()) / r
                    y <- Math.Log(1.0 - this.NextDouble())
                    accept <- -2.0 * y >= t * t
                result <- if u < 0.0 then t - r else r - t
                fin <- true
            else
                // the wedge between X[i+1] and X[i]: accept under the density
                let xv = u * x.[i]
                let f0 = Math.Exp(-0.5 * (x.[i] * x.[i] - xv * xv))
                let f1 = Math.Exp(-0.5 * (x.[i + 1] * x.[i + 1] - xv * xv))
                if f1 + this.NextDouble() * (f0 - f1) < 1.0 then
                    result <- xv
                    fin <- true
        result

    /// Fills the span with i.i.d. N(0, 1) deviates by <see cref="NextGaussianZiggurat"/> (in span order).
    member this.FillGaussianZiggurat(target: Span<float>) =
        let x = zigX
        let ratio = zigRatio
        // NextGaussianZiggurat with its fast path and xoshiro256** written out in the loop on a local copy of the
        // state, which goes back to the fields around the (rare) slow path and at the end: the same draws in the same
        // order as successive NextGaussianZiggurat calls (tested)
        let mutable a0 = s0
        let mutable a1 = s1
        let mutable a2 = s2
        let mutable a3 = s3
        for k in 0 .. target.Length - 1 do
            let bits = (Numerics.BitOperations.RotateLeft(a1 * 5UL, 7)) * 9UL
            let t = a1 <<< 17
            a2 <- a2 ^^^ a0
            a3 <- a3 ^^^ a1
            a1 <- a1 ^^^ a2
            a0 <- a0 ^^^ a3
            a2 <- a2 ^^^ t
            a3 <- Numerics.BitOperations.RotateLeft(a3, 45)
            let i = int (bits &&& 255UL)
            let u = 2.0 * (float (bits >>> 11) * (1.0 / 9007199254740992.0)) - 1.0
            if Math.Abs u < ratio.[i] then target.[k] <- u * x.[i]
            else
                s0 <- a0
                s1 <- a1
                s2 <- a2
                s3 <- a3
                target.[k] <- this.ZigguratRest(i, u)
                a0 <- s0
                a1 <- s1
                a2 <- s2
                a3 <- s3
        s0 <- a0
        s1 <- a1
        s2 <- a2
        s3 <- a3

    /// Fills the span with i.i.d. N(mean, sd²) deviates.
    member this.FillGaussian(target: Span<float>, mean: float, sd: float) =
        for i in 0 .. target.Length - 1 do
            target.[i] <- mean + sd * this.NextGaussian()

    /// An array of n i.i.d. N(0,1) deviates.
    member this.Gaussians(n: int) =
        let a = Array.zeroCreate n
        this.FillGaussian(Span a, 0.0, 1.0)
        a
