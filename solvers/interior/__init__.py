"""Interior points: primal-dual path following on the Eisenberg-Gale program.

`program` holds the machinery both share (the program's state, its Newton step, line search and
their failures); `fisher_ipm` follows the Fisher market's path and `exchange_ipm` the linear
exchange economy's, a subclass of the same program whose budgets move with the prices.
"""
