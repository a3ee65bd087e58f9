"""PyTorch reference for TrainingBench.BpttGradient (issue 5): one BPTT gradient of the μP rate RNN,
N = 400, 200 exponential-Euler steps, batch 8, float64, tanh, one input/output, MSE on every step.
Usage: python3 bench/torch_bptt.py   (Debian: apt-get install -y python3-torch). Prints the median of 20 runs."""
import math, time, torch

torch.set_default_dtype(torch.float64)
N, T, B, dt, g, gamma = 400, 200, 8, 0.1, 1.5, 1.0
e = math.exp(-dt)
gen = torch.Generator().manual_seed(1)
J = torch.randn(N, N, generator=gen, requires_grad=True)
U = torch.randn(N, 1, generator=gen, requires_grad=True)
V = torch.randn(N, 1, generator=gen, requires_grad=True)
inp = torch.randn(T, B, 1, generator=gen)
tgt = torch.randn(T, B, 1, generator=gen)
x0 = torch.randn(B, N, generator=gen)

def gradient():
    for p in (J, U, V):
        p.grad = None
    x = x0
    loss = 0.0
    c = g / math.sqrt(N)
    for k in range(T):
        r = torch.tanh(x)
        y = r @ V / (N * gamma)
        loss = loss + ((y - tgt[k]) ** 2).sum()
        x = e * x + (1 - e) * (c * r @ J.T + inp[k] @ U.T)
    loss = 0.5 * loss / (T * B)
    loss.backward()
    return loss.item()

gradient()
times = []
for _ in range(20):
    t0 = time.perf_counter(); gradient(); times.append(time.perf_counter() - t0)
times.sort()
print(f"torch {torch.__version__} threads={torch.get_num_threads()} median {times[len(times)//2]*1e3:.1f} ms, min {times[0]*1e3:.1f} ms")
