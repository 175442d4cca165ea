"""Economies: the model, format-1 files, utility families, the certificate, generators; games
in Gambit's .nfg files."""
from .certificate import MEASURES, Certificate, certify, check_point
from .economy import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, UTILITY_NAMES, Economy, make_economy
from .errors import EconomyError, InputError
from .io import dumps, economy_from_dict, economy_to_dict, load, loads, save
from .nfg import NfgGame, load_nfg, read_nfg, write_nfg
from .numba_cache import install as install_numba_cache_lock
from .utilities import demand, log_indirect_utility, log_utility

__all__ = [
    "CES", "COBB_DOUGLAS", "LEONTIEF", "LINEAR", "MEASURES", "UTILITY_NAMES",
    "Certificate", "Economy", "EconomyError", "InputError", "NfgGame",
    "certify", "check_point", "demand", "dumps", "economy_from_dict", "economy_to_dict",
    "load", "load_nfg", "loads", "log_indirect_utility", "log_utility", "make_economy", "read_nfg", "save",
    "write_nfg",
]

# kernels compile on their first call, after this: every process that imports gebench saves
# its Numba caches one at a time (gebench.markets.numba_cache)
install_numba_cache_lock()
