"""The corpus of malformed problem files: (name, the file's text after `HEADER`, a pattern
the one error message must match). Each must end in exit code 2 with one message naming
the culprit and no traceback (`tests/fuzz/test_problem_files.py`)."""

HEADER = """\
import numpy as np
import sympy as sp
import pinnkit as pk

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
domain = pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1)
heat = sp.Eq(u.diff(t), 0.1 * u.diff(x, 2))
start = pk.Initial(u, sp.sin(sp.pi * x))
walls = pk.Dirichlet(u, 0)
"""


def problem(**parts: str) -> str:
    """`problem = pk.Problem(...)` with the heat problem's arguments, some replaced."""
    args = {
        "domain": "domain",
        "fields": "[u]",
        "equations": "[heat]",
        "conditions": "[start, walls]",
    }
    args.update(parts)
    return "problem = pk.Problem(" + ", ".join(f"{k}={v}" for k, v in args.items()) + ")\n"


GOOD = problem()

CASES = [
    # -- Python errors in the user's own file: their lines, not pinnkit's ------------------
    ("syntax error", "x = (1,\ny = 2\n", r"p\.py:\d+: syntax error"),
    ("indentation", "if True:\nprint(1)\n", r"syntax error: expected an indented block"),
    ("undefined name", "print(undefined_name)\n", r"p\.py:\d+.*NameError"),
    ("error in a function", "def f():\n    return 1 / 0\nf()\n", r"ZeroDivisionError"),
    ("raise", 'raise RuntimeError("boom")\n', r"RuntimeError: boom"),
    ("sys.exit", "import sys\nsys.exit(3)\n", r"called sys\.exit\(3\)"),
    ("missing module", "import not_a_module_xyz\n", r"ModuleNotFoundError.*not_a_module_xyz"),
    ("null byte", "x = 1\0\n", r"cannot be compiled|syntax error"),
    ("missing keyword", "problem = pk.Problem(fields=[u], equations=[heat])\n", r"domain"),
    ("unknown keyword", problem(bogus="1"), r"bogus"),
    # -- the file's variables ------------------------------------------------------------------
    ("no problem", "a = 1\n", r"defines no `problem`"),
    ("empty file", "", r"defines no `problem`"),
    ("problem not a Problem", "problem = 5\n", r"`problem` is a int, not a `pk\.Problem`"),
    ("config not a Config", GOOD + "config = 5\n", r"`config` is a int"),
    ("configs not a dict", GOOD + "configs = 5\n", r"`configs` must map names"),
    ("configs value", GOOD + 'configs = {"fast": 5}\n', r"`configs` must map names"),
    (
        "config and default differ",
        GOOD + 'config = pk.Config(steps=10)\nconfigs = {"default": pk.Config(steps=20)}\n',
        r"differ",
    ),
    # -- domain ------------------------------------------------------------------------------
    ("domain a number", problem(domain="5"), r"domain must be a pinnkit domain"),
    ("interval reversed", "domain = pk.Interval(x, 1, 0)\n" + GOOD, r"Interval"),
    ("interval of a string", 'domain = pk.Interval("x", 0, 1)\n' + GOOD, r"Symbol"),
    ("interval of NaN", 'domain = pk.Interval(x, 0, float("nan"))\n' + GOOD, r"Interval"),
    # -- fields --------------------------------------------------------------------------------
    ("fields a number", problem(fields="5"), r"fields=5 is an int, not a list"),
    ("fields a string", problem(fields='"u"'), r"fields='u' is a str"),
    ("fields a coordinate", problem(fields="[x]"), r"fields lists x, a coordinate"),
    ("fields empty", problem(fields="[]"), r"no fields"),
    ("field of too few", problem(fields='[sp.Function("u")(x)]'), r"takes \(x,\)"),
    ("field twice", problem(fields="[u, u]"), r"listed twice"),
    ("field a number", problem(fields="[3]"), r"not an applied function"),
    # -- equations -----------------------------------------------------------------------------
    ("equations a number", problem(equations="5"), r"equations=5 is an int"),
    ("equations a string", problem(equations='"u_t = u_xx"'), r"string is not parsed"),
    ("equations empty", problem(equations="[]"), r"no equations"),
    ("equation identically true", problem(equations="[sp.Eq(u, u)]"), r"identically True"),
    ("equation NaN", problem(equations="[sp.Eq(u.diff(t), sp.nan * u)]"), r"NaN"),
    ("equation a relation", problem(equations="[u.diff(t) > 0]"), r"relation"),
    ("equation a number", problem(equations="[3]"), r'"eq0".*involves none of the fields'),
    (
        "function without torch",
        problem(equations="[sp.Eq(u.diff(t), sp.besselj(0, u))]"),
        r"besselj.*no torch mapping.*command line has no option",
    ),
    (
        "unknown function",
        problem(equations='[sp.Eq(u.diff(t), sp.Function("v")(x, t))]'),
        r"\bv\b",
    ),
    (
        "unknown symbol",
        problem(equations='[sp.Eq(u.diff(t), sp.Symbol("k") * u.diff(x, 2))]'),
        r"\bk\b",
    ),
    (
        "numpy array times a derivative",
        problem(equations="[sp.Eq(u.diff(t), np.ones(3) * u.diff(x, 2))]"),
        r"p\.py:\d+.*Sympify",
    ),
    (
        "an equation named as a condition",
        problem(equations='{"initial_u": heat}'),
        r"unique.*initial_u",
    ),
    # -- conditions ----------------------------------------------------------------------------
    ("conditions a number", problem(conditions="3"), r"conditions=3 is an int"),
    ("condition a number", problem(conditions="[3]"), r"conditions\[0\] is int"),
    (
        "condition of a coordinate",
        problem(conditions='[pk.Dirichlet(x, 0, on="x = 0")]'),
        r"involves none of the fields",
    ),
    (
        "condition on an unknown side",
        problem(conditions='[pk.Dirichlet(u, 0, on="nowhere")]'),
        r"nowhere",
    ),
    (
        "initial value without time",
        "domain = pk.Interval(x, 0, 1)\nv = sp.Function('v')(x)\n"
        "problem = pk.Problem(domain=domain, fields=[v], equations=[sp.Eq(v.diff(x, 2), 0)], "
        "conditions=[pk.Initial(v, 0)])\n",
        r"initial condition needs a time coordinate",
    ),
    (
        "condition names clash",
        problem(conditions='[pk.Dirichlet(u, 0, name="a"), pk.Initial(u, 0, name="a")]'),
        r"unique",
    ),
    (
        "condition of NaN",
        problem(conditions='[pk.Dirichlet(u, float("nan"))]'),
        r"NaN|nan|finite",
    ),
    (
        "periodic on a disk",
        "y = sp.Symbol('y')\nw = sp.Function('w')(x, y)\n"
        "problem = pk.Problem(domain=pk.Disk(x, y), fields=[w], "
        "equations=[sp.Eq(w.diff(x, 2) + w.diff(y, 2), 1)], "
        "conditions=[pk.Periodic(x)])\n",
        r"no flat sides x = -1 and x = 1",
    ),
    # -- parameters and hidden terms ----------------------------------------------------------
    ("parameter init a string", 'D = pk.Parameter("D", init="abc")\n', r"init=.abc. is not"),
    ("parameter init NaN", 'D = pk.Parameter("D", init=float("nan"))\n', r"not finite"),
    ("parameter log negative", 'D = pk.Parameter("D", init=-1, log=True)\n', r"positive"),
    (
        "two parameters one name",
        'a = pk.Parameter("D", init=1.0)\nb = pk.Parameter("D", init=2.0)\n'
        + problem(equations="[sp.Eq(u.diff(t), a * u.diff(x, 2) + b * u)]"),
        r'"D"',
    ),
    ("hidden bad name", 'f = pk.Hidden("1f")\n', r"1f"),
    # -- data ----------------------------------------------------------------------------------
    (
        "data of different lengths",
        "obs = pk.Data({x: [0.1, 0.2], t: [0.5]}, {u: [1.0, 2.0]})\n" + problem(data="obs"),
        r"different lengths",
    ),
    ("data with no values", "obs = pk.Data({x: [0.1], t: [0.5]}, {})\n", r"no observed field"),
    (
        "data of an unknown key",
        'obs = pk.Data({"y": [0.1], t: [0.5]}, {u: [1.0]})\n' + problem(data="obs"),
        r"\by\b",
    ),
    ("data file missing", 'obs = pk.Data.from_file("missing.csv")\n', r"missing\.csv"),
    (
        "data outside the domain",
        "obs = pk.Data({x: [5.0], t: [0.5]}, {u: [1.0]})\n" + problem(data="obs"),
        r"outside|domain",
    ),
    (
        "NPZ with an object array",
        'np.savez("obj.npz", x=np.array([1, "a", None], dtype=object))\n'
        'ref = pk.reference.Grid.from_npz("obj.npz")\n',
        r"obj\.npz.*cannot be read",
    ),
    (
        "NPZ missing",
        'ref = pk.reference.Grid.from_npz("missing.npz")\n',
        r"missing\.npz: no such file",
    ),
    (
        "MAT not a mat file",
        'with open("fake.mat", "w") as f:\n    f.write("hello")\n'
        'ref = pk.reference.Grid.from_mat("fake.mat")\n',
        r"fake\.mat.*cannot be read as a MATLAB",
    ),
    # -- reference -----------------------------------------------------------------------------
    ("reference a number", problem(reference="5"), r"reference must be a pinnkit reference"),
    (
        "reference of an unknown field",
        problem(reference='pk.reference.Exact({sp.Function("w")(x, t): x})'),
        r"\bw\b",
    ),
    # -- configs in the file -------------------------------------------------------------------
    ("config steps negative", GOOD + "config = pk.Config(steps=-1)\n", r"steps=-1"),
    ("adam rate a string", 'opt = pk.Adam(learning_rate="abc")\n', r"learning_rate='abc'"),
    ("unknown activation", 'net = pk.MLP(activation="relu")\n', r"relu.*unknown"),
    (
        "both features",
        GOOD + "config = pk.Config(fourier=pk.Fourier(), gaussians=pk.Gaussians())\n",
        r"not both",
    ),
    ("sampling of zero points", "s = pk.Sampling(interior=0)\n", r"interior=0 is out of range"),
    ("weights a list", GOOD + "config = pk.Config(weights=[1, 2])\n", r"expected a mapping"),
]
