"""Planners: exact and local methods that compute an equilibrium from the whole economy at once.

Convex programs (`eisenberg_gale`, `linear_exchange_cp`), pivoting and simplicial algorithms
(`lemke_howson`, `scarf`), Newton's method and its global homotopy (`newton`, `homotopy`,
`production_newton`) and the GAMS PATH complementarity solver (`path_mcp`). Unlike the
auctioneers and traders, none of them reads like a market process: each sees every agent's
utility and solves for the equilibrium directly. The interior points are planners too; they
have their own package (`gebench.solvers.interior`) because they share a program.
"""
