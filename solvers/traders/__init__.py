"""Traders: decentralised processes in which agents trade out of equilibrium, so every round's
allocation is a feasible one: `bilateral` (pairs or groups trading at their own clearing price)
and `hahn` (the Hahn process, trade at tatonnement prices). Their traces record welfare along
the way, not only at the end.
"""
