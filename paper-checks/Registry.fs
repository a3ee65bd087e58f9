/// Every paper-check, in report order. Each area adds its checks here (one line each).
module Theory.PaperChecks.Registry

let all: PaperCheck list =
    [ // issue 2: SCS
      // issues 5, 6: learned DMFT
      Dmft.NonlinearGammaStar.check
      // issue 4: closed loop
      // issue 3: regularities
      ]
