"""Auctioneers: market dynamics in which a central price-setter (or a proportional bidding rule)
iterates on prices from aggregate demand: `tatonnement` and `proportional_response`. No trade
happens until the prices settle; their steps are Numba kernels over dense or CSR economies.
"""
