namespace Theory.Core.Numerics

open System

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

    /// Fills the span with i.i.d. N(mean, sd²) deviates.
    member this.FillGaussian(target: Span<float>, mean: float, sd: float) =
        for i in 0 .. target.Length - 1 do
            target.[i] <- mean + sd * this.NextGaussian()

    /// An array of n i.i.d. N(0,1) deviates.
    member this.Gaussians(n: int) =
        let a = Array.zeroCreate n
        this.FillGaussian(Span a, 0.0, 1.0)
        a
