"""pytest-benchmark: the Eisenberg-Gale program on one 320 x 320 Fisher market (linear, and CES
with rho = 0.5), solved three ways in one run: by gebench's `fisher-ipm` (the default planner,
a structured interior point), by gebench's `eisenberg-gale` (cvxpy + Clarabel), and by Clarabel
called directly on a conic form built here without cvxpy's canonicalisation, the best public
implementation of an interior point for this program that installs here. Every answer is
judged by gebench's certificate at the same tolerance.

    pytest benchmarks/perf/test_planner_peers.py --benchmark-only --benchmark-json results/planner-peers.json

Clarabel gets the accuracy `eisenberg-gale` asks of it (`accuracy_for`). The direct form
(Eisenberg and Gale 1959; the conic forms of Chandrasekaran and Shah, "Relative entropy
optimization and its applications", Math. Program. 2017): variables x_ij, v_i, t_i; maximise
sum_i B_i t_i subject to sum_i x_ij <= s_j, x >= 0, and for linear utilities
v_i <= sum_j a_ij x_ij with (t_i, 1, v_i) in the exponential cone (t_i <= log v_i); for CES
with rho = 1/2, u_i = (sum_j a_ij sqrt(x_ij))^2, so with w_ij^2 <= x_ij (a rotated
second-order cone, ||(2 w_ij, x_ij - 1)|| <= x_ij + 1), v_i <= sum_j a_ij w_ij and
t_i <= log v_i, the objective is sum_i 2 B_i t_i. The prices are the duals of the supply rows.

With --benchmark-disable these run as plain tests at 40 x 40.
"""
import numpy as np
import pytest
import scipy.sparse as sp

from gebench.markets.generators import generate
from gebench.markets.units import unit_supply
from gebench.solvers import create, solve
from gebench.solvers.judging import finished
from gebench.solvers.planners.eisenberg_gale import accuracy_for

N = 320
TOL = 1e-8
MARKETS = {"linear": ("fisher-linear", None), "ces": ("fisher-ces", 0.5)}


def clarabel_direct(economy, tol: float):
    """The Eisenberg-Gale program in Clarabel's own form: (prices, allocation, iterations, status)."""
    import clarabel
    n, m = economy.n_agents, economy.n_goods
    a, supply = economy.a, economy.total_supply
    weights = economy.budget / economy.budget.mean()
    ces = not np.isnan(economy.rho).all()
    nx = n * m
    # variables: x (n*m, row-major), w (n*m, CES only), v (n), t (n)
    nw = nx if ces else 0
    iv, it = nx + nw, nx + nw + n
    nvar = it + n
    q = np.zeros(nvar)
    q[it:] = -(2.0 if ces else 1.0) * weights
    blocks, b, cones = [], [], []
    rows = sp.kron(sp.identity(m, format="csr"), np.ones((1, n)), format="csr")     # good j: sum_i x_ij
    supply_rows = sp.csr_array(sp.hstack([rows[:, np.argsort(np.arange(nx).reshape(n, m).T.ravel())],
                                          sp.csr_array((m, nvar - nx))]))
    blocks.append(supply_rows)
    b.append(supply)
    blocks.append(sp.hstack([-sp.identity(nx), sp.csr_array((nx, nvar - nx))]))      # x >= 0
    b.append(np.zeros(nx))
    # v_i <= sum_j a_ij (x_ij or w_ij): -sum a_ij (.) + v_i <= 0
    mean = sp.kron(sp.identity(n), np.ones((1, m)), format="csr").multiply(a.ravel()[None, :])
    first = nx if ces else 0
    spread = sp.hstack([sp.csr_array((n, first)), -mean, sp.csr_array((n, nvar - first - nx))], format="csr")
    spread = spread + sp.csr_array((np.ones(n), (np.arange(n), iv + np.arange(n))), shape=(n, nvar))
    blocks.append(spread)
    b.append(np.zeros(n))
    cones.append(clarabel.NonnegativeConeT(m + nx + n))
    if ces:
        # (x_ij + 1, 2 w_ij, x_ij - 1) in the second-order cone, as s = b - A z
        k = np.arange(nx)
        A_soc = sp.csr_array((np.concatenate([-np.ones(nx), -2 * np.ones(nx), -np.ones(nx)]),
                              (np.concatenate([3 * k, 3 * k + 1, 3 * k + 2]), np.concatenate([k, nx + k, k]))),
                             shape=(3 * nx, nvar))
        b_soc = np.tile([1.0, 0.0, -1.0], nx)
        blocks.append(A_soc)
        b.append(b_soc)
        cones += [clarabel.SecondOrderConeT(3)] * nx
    # (t_i, 1, v_i) in the exponential cone
    i = np.arange(n)
    A_exp = sp.csr_array((-np.ones(2 * n), (np.concatenate([3 * i, 3 * i + 2]), np.concatenate([it + i, iv + i]))),
                         shape=(3 * n, nvar))
    blocks.append(A_exp)
    b.append(np.tile([0.0, 1.0, 0.0], n))
    cones += [clarabel.ExponentialConeT()] * n
    A = sp.csc_matrix(sp.vstack(blocks))
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    # as eisenberg-gale asks
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = accuracy_for(economy, tol)
    solver = clarabel.DefaultSolver(sp.csc_matrix((nvar, nvar)), q, A, np.concatenate(b), cones, settings)
    solution = solver.solve()
    x = np.asarray(solution.x)[:nx].reshape(n, m)
    prices = np.maximum(np.asarray(solution.z)[:m], 0.0)
    return prices, np.maximum(x, 0.0), int(solution.iterations), str(solution.status)


def market(name: str, size: int):
    family, rho = MARKETS[name]
    return unit_supply(generate(family, agents=size, goods=size, seed=0, rho=rho))[0]


def _judge(benchmark, economy, result):
    benchmark.extra_info["status"] = result.status
    benchmark.extra_info["certificate_worst"] = None if result.certificate is None else float(result.certificate.worst)
    benchmark.extra_info["iterations"] = int(result.iterations)


@pytest.mark.parametrize("name", sorted(MARKETS))
@pytest.mark.parametrize("how", ["fisher-ipm", "eisenberg-gale", "clarabel-direct"])
def test_the_planner_against_its_peers(benchmark, name, how):
    benchmark.group = f"eisenberg-gale program {name}"
    economy = market(name, N if not benchmark.disabled else 40)
    if how == "clarabel-direct":
        def run():
            prices, x, iterations, status = clarabel_direct(economy, TOL)
            outcome = finished(economy, TOL, prices, x, iterations, status)
            return outcome
        outcome = benchmark.pedantic(run, rounds=3 if not benchmark.disabled else 1, iterations=1)
        from gebench.solvers.judging import certified
        result = certified("clarabel-direct", economy, outcome, TOL, 0.0)
    else:
        solver = create(how)
        solver.warm_up()
        result = benchmark.pedantic(solve, args=(solver, economy, TOL, 600.0),
                                    rounds=3 if not benchmark.disabled else 1, iterations=1)
    _judge(benchmark, economy, result)
    assert result.status == "converged" or how != "fisher-ipm", result.message
