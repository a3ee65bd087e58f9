"""PyTorch reference for ClosedLoopBench.TanhEpoch (issue 4): one training epoch of the nonlinear closed-loop run of
Ger & Barak 2025 (Figs 1-2): tanh RNN controller N = 100 (leak a = 1), double integrator (Delta = 1, Euler form
A = [[1, 1], [0, 1]], B = (0, 1), C = (1, 0)), T = 50 steps, batch 100, h0 = 0, u0 = 0,
loss = sum_t Delta [ (1/(2B)) sum_b |x_t|^2 + beta sum_b u_t^2 ], beta = 0.005, BPTT through the plant, SGD with
global-norm clipping 1, float64.
Usage: python3 bench/torch_closed_loop.py   (Debian: apt-get install -y python3-torch). Prints median/min of 30 epochs."""
import time, torch

torch.set_default_dtype(torch.float64)
N, T, B, dt, beta, lr, clip, g = 100, 50, 100, 1.0, 0.005, 1e-2, 1.0, 0.1
gen = torch.Generator().manual_seed(1)
W = (g / N ** 0.5 * torch.randn(N, N, generator=gen)).requires_grad_()
m = (torch.randn(N, generator=gen) / N ** 0.5).requires_grad_()
z = (torch.randn(N, generator=gen) / N ** 0.5).requires_grad_()
x0 = 2 * torch.rand(B, 2, generator=gen) - 1
A = torch.tensor([[1.0, dt], [0.0, 1.0]])
Bv = torch.tensor([0.0, dt])
params = [W, m, z]
opt = torch.optim.SGD(params, lr=lr)

def epoch():
    opt.zero_grad()
    x, u = x0, torch.zeros(B)
    h = torch.zeros(B, N)
    loss = dt / (2 * B) * (x * x).sum()
    for t in range(1, T):
        x = x @ A.T + u[:, None] * Bv
        y = x[:, 0]
        h = torch.tanh(h @ W.T + y[:, None] * m)
        u = h @ z
        loss = loss + dt / (2 * B) * (x * x).sum() + dt * beta * (u * u).sum()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, clip)
    opt.step()
    return loss.item()

for _ in range(3):
    epoch()
times = []
for _ in range(30):
    t0 = time.perf_counter(); epoch(); times.append((time.perf_counter() - t0) * 1e3)
times.sort()
print(f"torch {torch.__version__} closed-loop tanh epoch N=100 T=50 B=100 (threads {torch.get_num_threads()}): "
      f"median {times[15]:.1f} ms, min {times[0]:.1f} ms")
