"""Economies: the model, format-1 files, utility families, the certificate, generators."""
from .certificate import MEASURES, Certificate, certify, check_point
from .economy import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, UTILITY_NAMES, Economy, make_economy
from .errors import EconomyError, InputError
from .io import dumps, economy_from_dict, economy_to_dict, load, loads, save
from .utilities import demand, log_indirect_utility, log_utility

__all__ = [
    "CES", "COBB_DOUGLAS", "LEONTIEF", "LINEAR", "MEASURES", "UTILITY_NAMES",
    "Certificate", "Economy", "EconomyError", "InputError",
    "certify", "check_point", "demand", "dumps", "economy_from_dict", "economy_to_dict",
    "load", "loads", "log_indirect_utility", "log_utility", "make_economy", "save",
]
