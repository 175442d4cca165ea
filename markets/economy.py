"""The `Economy` model: n agents, m goods, one utility family per agent, as numpy arrays.

Every numeric rule of docs/format.md is checked here, once, before an
`Economy` exists; the JSON reader in `gebench.markets.io` only checks structure.

An economy is dense (numpy arrays) or sparse: utility coefficients, and an
exchange economy's endowments, as CSR matrices, so that a market with 10^7
nonzero coefficients among 10^10 pairs fits in memory and the dynamics that
accept it (`Solver.sparse`) spend O(nonzeros) per step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from .errors import EconomyError
from .production import Producer, Technologies, check_producers, produced

LINEAR, COBB_DOUGLAS, CES, LEONTIEF = 0, 1, 2, 3
UTILITY_NAMES = ("linear", "cobb-douglas", "ces", "leontief")
UTILITY_CODES = {name: code for code, name in enumerate(UTILITY_NAMES)}
MODELS = ("exchange", "fisher")


def _frozen(values, dtype=np.float64) -> np.ndarray:
    array = np.array(values, dtype=dtype, copy=True, order="C")
    array.setflags(write=False)
    return array


def stored_rows(matrix) -> np.ndarray:
    """The row (agent) of each stored value of a CSR matrix, in storage order."""
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def first_bad_value(matrix) -> tuple[int, int, float] | None:
    """(row, column, value) of the first stored value of a CSR matrix that is not a finite
    number >= 0, or None."""
    bad = np.flatnonzero(~np.isfinite(matrix.data) | (matrix.data < 0))
    if not bad.size:
        return None
    k = bad[0]
    return int(np.searchsorted(matrix.indptr, k, side="right")) - 1, int(matrix.indices[k]), matrix.data[k]


def _frozen_csr(matrix, shape: tuple[int, int], where: str) -> sp.csr_array:
    """A read-only canonical float64 CSR copy (sorted indices, no duplicates, no stored
    zeros, int64 indices), after checking every stored value is finite and >= 0."""
    csr = sp.csr_array(matrix, dtype=np.float64, copy=True)
    if csr.shape != shape:
        raise EconomyError(f"{where}: expected shape {shape}, got {csr.shape}")
    csr.sum_duplicates()
    bad = first_bad_value(csr)
    if bad:
        i, j, value = bad
        raise EconomyError(f"agent {i}: {where}[{j}]: must be a finite number >= 0, got {value}")
    csr.eliminate_zeros()
    empty = np.flatnonzero(np.diff(csr.indptr) == 0)
    if empty.size:
        raise EconomyError(f"agent {empty[0]}: {where}: must not be all zero")
    out = sp.csr_array((csr.data, csr.indices.astype(np.int64), csr.indptr.astype(np.int64)), shape=shape)
    out.has_sorted_indices = out.has_canonical_format = True
    for array in (out.data, out.indices, out.indptr):
        array.setflags(write=False)
    return out


MIN_ABS_RHO = 1e-6      # closer to 0, a CES utility's logs lose their precision to rounding


@dataclass(frozen=True, eq=False)
class Economy:
    """An exchange (Arrow-Debreu) or Fisher market.

    Attributes
    ----------
    model : ``"exchange"`` or ``"fisher"``.
    kinds : (n,) int8 utility family codes (`LINEAR`, `COBB_DOUGLAS`, `CES`, `LEONTIEF`).
    a : (n, m) utility coefficients, >= 0, each row not all zero: an array, or a
        `scipy.sparse` matrix, which makes the economy sparse (`sparse`).
    rho : (n,) CES exponent, NaN for the other families.
    endowment : (n, m) for exchange economies, else None; CSR in a sparse economy.
    budget : (n,) money for Fisher markets, else None.
    supply : (m,) Fisher supply as given in the file (None means one unit of each good).
    goods_names, name : optional labels kept for a lossless round trip.
    exact_a : optional (n, m) exact rational coefficients (`fractions.Fraction`, as nested
        tuples), for solvers that pivot exactly (game economies whose payoffs exceed
        2^53); `a` then holds their correctly rounded float values. Dense economies only.
    producers : optional tuple of `gebench.markets.production.Producer` (constant-returns activities
        and technologies) of a dense exchange economy; a good nobody is endowed with must be
        one some producer makes.

    Arrays are read-only: solvers cannot change the economy they are given.
    A sparse economy holds `scipy.sparse.csr_array` matrices in canonical form.
    """

    model: str
    kinds: np.ndarray
    a: np.ndarray
    rho: np.ndarray
    endowment: np.ndarray | None = None
    budget: np.ndarray | None = None
    supply: np.ndarray | None = None
    goods_names: tuple[str, ...] | None = None
    name: str | None = None
    meta: dict = field(default_factory=dict)
    exact_a: tuple | None = None
    producers: tuple[Producer, ...] = ()

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        if self.model not in MODELS:
            raise EconomyError(f"model: must be one of {MODELS}, got {self.model!r}")
        sparse = sp.issparse(self.a)
        a = self.a if sparse else np.asarray(self.a, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
            raise EconomyError(f"utility.a: expected a non-empty (agents, goods) matrix, got shape {a.shape}")
        n, m = a.shape
        if sparse:
            a = _frozen_csr(a, (n, m), "utility.a")
        kinds = np.asarray(self.kinds)
        if kinds.shape != (n,) or not np.all(np.isin(kinds, range(len(UTILITY_NAMES)))):
            raise EconomyError("utility.type: expected one known family code per agent")
        rho = np.asarray(self.rho, dtype=np.float64)
        if rho.shape != (n,):
            raise EconomyError(f"utility.rho: expected {n} values, got shape {rho.shape}")
        for i in range(0 if sparse else n):
            _check_vector(a[i], f"agent {i}: utility.a", allow_zero=False)
        for i in np.flatnonzero(kinds == CES):
            r = rho[i]
            if not np.isfinite(r) or r >= 1 or r == 0:
                raise EconomyError(f"agent {i}: utility.rho: must be finite, < 1 and != 0, got {r}")
            if abs(r) < MIN_ABS_RHO:
                raise EconomyError(f"agent {i}: utility.rho: {r} is Cobb-Douglas to within rounding "
                                   f"(|rho| < {MIN_ABS_RHO:g}); give a cobb-douglas utility instead")
        rho = np.where(kinds == CES, rho, np.nan)
        if self.model == "exchange":
            if self.endowment is None or self.budget is not None or self.supply is not None:
                raise EconomyError("exchange economy: every agent needs an endowment; "
                                   "budget and supply are Fisher-only")
            if sparse:
                e = _frozen_csr(self.endowment, (n, m), "endowment")
                with np.errstate(over="ignore"):      # an overflow is refused below, by name
                    total = e.sum(axis=0)
            else:
                e = self.endowment.toarray() if sp.issparse(self.endowment) else self.endowment
                e = np.asarray(e, dtype=np.float64)
                if e.shape != (n, m):
                    raise EconomyError(f"endowment: expected shape {(n, m)}, got {e.shape}")
                for i in range(n):
                    _check_vector(e[i], f"agent {i}: endowment", allow_zero=False)
                with np.errstate(over="ignore"):      # an overflow is refused below, by name
                    total = e.sum(axis=0)
                e = _frozen(e)
            set_("endowment", e)
        else:
            if self.budget is None or self.endowment is not None:
                raise EconomyError("fisher market: every agent needs a budget; endowments are exchange-only")
            b = np.asarray(self.budget, dtype=np.float64)
            if b.shape != (n,):
                raise EconomyError(f"budget: expected {n} values, got shape {b.shape}")
            for i in range(n):
                if not np.isfinite(b[i]) or b[i] <= 0:
                    raise EconomyError(f"agent {i}: budget: must be a finite number > 0, got {b[i]}")
            set_("budget", _frozen(b))
            if self.supply is not None:
                s = np.asarray(self.supply, dtype=np.float64)
                if s.shape != (m,):
                    raise EconomyError(f"supply: expected {m} values, got shape {s.shape}")
                bad = np.flatnonzero(~np.isfinite(s) | (s <= 0))
                if bad.size:
                    raise EconomyError(f"good {bad[0]}: supply: must be a finite number > 0, got {s[bad[0]]}")
                set_("supply", _frozen(s))
            total = self.supply if self.supply is not None else np.ones(m)
        total = np.asarray(total, dtype=np.float64).ravel()
        producers = tuple(self.producers or ())
        if producers:
            if self.model != "exchange":
                raise EconomyError("producers: only exchange (Arrow-Debreu) economies have producers")
            if sparse:
                raise EconomyError("producers: an economy with producers is dense")
            producers = check_producers(producers, m)
        set_("producers", producers)
        made = produced(producers, m) if producers else np.zeros(m, dtype=bool)
        unsupplied = np.flatnonzero((total <= 0) & ~made)
        if unsupplied.size:
            raise EconomyError(f"good {unsupplied[0]}: endowment: nobody supplies this good"
                               + (" and no producer makes it" if producers else ""))
        overflow = np.flatnonzero(~np.isfinite(total))
        if overflow.size:
            raise EconomyError(f"good {overflow[0]}: endowment: the total supply overflows a double "
                               "(holdings near 1.8e308); rescale the good's units")
        if self.goods_names is not None:
            names = tuple(self.goods_names)
            if len(names) != m or not all(isinstance(g, str) for g in names):
                raise EconomyError(f"goods: expected {m} names (strings)")
            set_("goods_names", names)
        if self.exact_a is not None:
            set_("exact_a", _exact_matrix(self.exact_a, a, sparse))
        set_("a", a if sparse else _frozen(a))
        set_("kinds", _frozen(kinds, np.int8))
        set_("rho", _frozen(rho))
        set_("_total_supply", _frozen(total))

    @property
    def n_agents(self) -> int:
        return self.a.shape[0]

    @property
    def n_goods(self) -> int:
        return self.a.shape[1]

    @property
    def total_supply(self) -> np.ndarray:
        """w: the sum of endowments (exchange) or the Fisher supply (default 1 each)."""
        return self._total_supply

    @property
    def sparse(self) -> bool:
        """True when `a` (and an exchange economy's endowment) are CSR matrices."""
        return sp.issparse(self.a)

    @cached_property
    def log_a(self) -> np.ndarray:
        """log of the coefficients, computed once for the demand kernels: (n, m) with -inf
        where a_ij = 0, or in a sparse economy the logs of the stored values (`a.data`)."""
        with np.errstate(divide="ignore"):
            return _frozen(np.log(self.a.data if self.sparse else self.a))

    @cached_property
    def technologies(self) -> Technologies:
        """The producers as arrays (`gebench.markets.production.Technologies`), built once."""
        return Technologies(self.producers, self.n_goods)

    @property
    def production(self) -> bool:
        """True when the economy has producers."""
        return bool(self.producers)

    def to_sparse(self) -> Economy:
        """The same economy with CSR coefficients (and endowments); not for production economies."""
        if self.production:
            raise EconomyError("producers: an economy with producers is dense")
        return self if self.sparse else self._with(sp.csr_array(self.a), self.endowment)

    def to_dense(self) -> Economy:
        """The same economy with dense arrays."""
        if not self.sparse:
            return self
        return self._with(self.a.toarray(), None if self.endowment is None else self.endowment.toarray())

    def _with(self, a, endowment) -> Economy:
        return Economy(self.model, self.kinds, a, self.rho, endowment=endowment, budget=self.budget,
                       supply=self.supply, goods_names=self.goods_names, name=self.name, meta=dict(self.meta),
                       exact_a=None if sp.issparse(a) else self.exact_a, producers=self.producers)

    @property
    def utility_kinds(self) -> frozenset[str]:
        """The utility families its agents have ("linear", "ces", ...); not to be confused with
        economy families (`gebench.markets.generators.FAMILIES`)."""
        return frozenset(UTILITY_NAMES[k] for k in np.unique(self.kinds))

    @property
    def families(self) -> frozenset[str]:
        """`utility_kinds`, by the name plugins written against gebench 0.1 use."""
        return self.utility_kinds

    def incomes(self, prices: np.ndarray) -> np.ndarray:
        """b_i: p . e_i (exchange) or B_i (p . w) / sum_k B_k (Fisher, money as numeraire)."""
        prices = np.asarray(prices, dtype=np.float64)
        if self.model == "exchange":
            return self.endowment @ prices
        return self.budget * (prices @ self.total_supply) / self.budget.sum()


def _exact_matrix(exact, a, sparse: bool) -> tuple:
    """`exact` as nested tuples of Fractions, checked against the float coefficients `a`:
    same shape, and each float the correctly rounded value of its exact coefficient."""
    if sparse:
        raise EconomyError("utility.a: exact coefficients are kept for dense economies only")
    rows = tuple(tuple(Fraction(v) for v in row) for row in exact)
    if len(rows) != a.shape[0] or any(len(row) != a.shape[1] for row in rows):
        raise EconomyError(f"utility.a: exact coefficients must have the shape {a.shape}")
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if float(v) != a[i, j]:
                raise EconomyError(f"agent {i}: utility.a[{j}]: the float {a[i, j]!r} is not the rounded "
                                   f"value of the exact coefficient {v}")
    return rows


def _check_vector(values: np.ndarray, where: str, allow_zero: bool) -> None:
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise EconomyError(f"{where}[{bad[0]}]: must be a finite number >= 0, got {values[bad[0]]}")
    if not allow_zero and not np.any(values > 0):
        raise EconomyError(f"{where}: must not be all zero")


def make_economy(model: str, utility: str | list[str], a, *, rho=None, endowment=None,
                 budget=None, supply=None, name=None, goods_names=None, producers=()) -> Economy:
    """Build an economy from family names instead of codes (one family for all, or one per agent)."""
    a = np.asarray(a, dtype=np.float64)
    n = a.shape[0]
    names = [utility] * n if isinstance(utility, str) else list(utility)
    if len(names) != n:
        raise EconomyError(f"utility.type: expected {n} families, got {len(names)}")
    unknown = [u for u in names if u not in UTILITY_CODES]
    if unknown:
        raise EconomyError(f"utility.type: unknown family {unknown[0]!r}; expected one of {UTILITY_NAMES}")
    rho_arr = np.full(n, np.nan) if rho is None else np.broadcast_to(np.asarray(rho, float), (n,))
    return Economy(model=model, kinds=np.array([UTILITY_CODES[u] for u in names]), a=a, rho=rho_arr,
                   endowment=endowment, budget=budget, supply=supply, name=name, goods_names=goods_names,
                   producers=producers)
