using Theory.Core;

namespace Theory.Simulation.Training;

/// <summary>A training task: B conditions (trials) run for <see cref="Steps"/> = BurnIn + Window Euler steps from
/// initial states x0; the targets apply to the rates φ(x_k) at k = BurnIn … BurnIn+Window−1 (the training window).
/// Inputs are time-major per condition: Inputs[b][k·inputs + a] = I_a at step k (drives x_{k+1}).
/// Targets[b][k'·outputs + o] = y*_o at window step k'. Initial states X0[b] (length N) or null for x0 = 0.</summary>
public sealed class TrainingTask
{
    /// <summary>Task name (for outputs).</summary>
    public string Name { get; }
    /// <summary>Number of input channels.</summary>
    public int Inputs { get; }
    /// <summary>Number of outputs d.</summary>
    public int Outputs { get; }
    /// <summary>Steps before the window (not in the loss).</summary>
    public int BurnIn { get; }
    /// <summary>Window length (steps in the loss).</summary>
    public int Window { get; }
    /// <summary>Conditions (batch size B).</summary>
    public int Conditions => Targets.Length;
    /// <summary>Total steps = BurnIn + Window.</summary>
    public int Steps => BurnIn + Window;
    /// <summary>Inputs per condition (Steps × inputs, time-major).</summary>
    public double[][] InputSeries { get; }
    /// <summary>Targets per condition (Window × outputs, time-major).</summary>
    public double[][] Targets { get; }
    /// <summary>Initial states per condition (length N each) or null (x0 = 0).</summary>
    public double[][]? X0 { get; }
    /// <summary>Time step Δt the task was built for.</summary>
    public double Dt { get; }

    /// <summary>Checks the shapes.</summary>
    public TrainingTask(string name, int inputs, int outputs, int burnIn, int window, double dt,
        double[][] inputSeries, double[][] targets, double[][]? x0)
    {
        Name = name;
        Inputs = Validate.AtLeast("inputs", inputs, 0);
        Outputs = Validate.AtLeast("outputs", outputs, 1);
        BurnIn = Validate.AtLeast("burnIn", burnIn, 0);
        Window = Validate.AtLeast("window", window, 1);
        Dt = Validate.Positive("dt", dt);
        if (targets.Length < 1) throw new ArgumentException("at least one condition is needed");
        if (inputSeries.Length != targets.Length) throw new ArgumentException("inputs and targets must have one entry per condition");
        foreach (var s in inputSeries) if (s.Length != (burnIn + window) * inputs) throw new ArgumentException("input series must have Steps·inputs entries");
        foreach (var t in targets) if (t.Length != window * outputs) throw new ArgumentException("targets must have Window·outputs entries");
        if (x0 != null && x0.Length != targets.Length) throw new ArgumentException("x0 must have one state per condition");
        InputSeries = inputSeries; Targets = targets; X0 = x0;
    }

    /// <summary>The targets stacked as a (B·Window) × outputs row-major matrix, row p = b·Window + k'.</summary>
    public double[] StackedTargets()
    {
        int p = Conditions * Window;
        var y = new double[p * Outputs];
        for (int b = 0; b < Conditions; b++) Array.Copy(Targets[b], 0, y, b * Window * Outputs, Window * Outputs);
        return y;
    }
}
