"""Peers: public implementations of algorithms gebench also implements (Gambit's, through
pygambit; QuantEcon's), wrapped as solvers so that the harness runs them on the same
economies, under the same budgets and isolation, and the one certificate judges them. A
peer's wrong answer is then a `failed` run, never a converged one.

Each peer is a small module here, registered as a plugin in the entry-point group; the
shared game reduction is `gebench.solvers.peers.game`. Their packages are the `peers` extra
(``pip install 'gebench[peers]'``); without it they are declined with that reason.
"""
