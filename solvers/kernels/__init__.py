"""Kernels: the pieces several algorithms share, none of them a solver.

Utility weights (`ces_weights`), incomes (`incomes`), excess demand and its starting points
(`excess_demand`), log prices and the multiplicative price step (`log_prices`), the conic
programs' solver selection (`conic`), the shared loop of the iterative methods (`iteration`),
market traces (`trace`), warm-ups on a tiny economy (`warm_up`) and the parameter rules every
solver declares (`params`). They live apart from the algorithms so that no algorithm has to
import another to reuse them. This package imports nothing itself: `base` imports
`kernels.params`, and `kernels.trace` imports `base`.
"""
