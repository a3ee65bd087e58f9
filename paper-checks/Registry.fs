/// Every paper-check, in report order. Each area adds its checks here (one line each).
module Theory.PaperChecks.Registry

let all: PaperCheck list =
    [ // issue 2: SCS
      Scs.ScsCheck.check
      // issues 5, 6: learned DMFT
      Theory.PaperChecks.Dmft.LinearFig2.check
      Dmft.NonlinearGammaStar.check
      Dmft.PhaseDiagramFig3.check
      // issue 16: tilted distributions, drift
      Dmft.TiltedDistributionsCheck.check
      Dmft.DriftCheck.check
      Dmft.OutliersCheck.check
      Dmft.CkaCheck.check
      Dmft.MultiConditionCheck.check
      // issue 4: closed loop
      ClosedLoopChecks.fig1c
      ClosedLoopChecks.fig2b
      ClosedLoopChecks.fig3
      ClosedLoopChecks.fig4
      ClosedLoopChecks.fig5
      ClosedLoopChecks.fig6
      // issue 18 item 2: tracking, closed vs open loop
      ClosedLoopTrackingCheck.check
      // issue 3: regularities
      Theory.PaperChecks.Regularities.Fig2Check.check
      Theory.PaperChecks.Regularities.Fig3Check.check
      Theory.PaperChecks.Regularities.Fig4Check.check
      Theory.PaperChecks.Regularities.ClaimsCheck.check
      Theory.PaperChecks.Regularities.DaleOscillationCheck.check
      ]
