namespace Theory.Simulation;

/// <summary>Runs independent members of an ensemble (one per seed or grid point) in parallel on all cores.
/// Results are stored by index, so they do not depend on scheduling or on the number of threads.</summary>
public static class Ensemble
{
    /// <summary>Evaluates <paramref name="member"/> for i = 0..count−1 in parallel and returns the results in index order.</summary>
    public static T[] Run<T>(int count, Func<int, T> member, int maxDegreeOfParallelism = -1)
    {
        if (count < 0) throw new Theory.Core.ParameterOutOfDomainException("count", count.ToString(), "an integer >= 0");
        var results = new T[count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, count, options, i => results[i] = member(i));
        return results;
    }
}
