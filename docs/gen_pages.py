"""Build-time pages of the documentation site, written by mkdocs-gen-files into the virtual docs.

Two jobs, both from the files as they stand, so nothing here needs editing when modules move:
the API reference (one page per public module of `pinnkit/`, found by walking the package,
plus `reference/SUMMARY.md` for mkdocs-literate-nav), and the benchmark results (the tables
under `benchmarks/` and the gallery figures, copied in rather than duplicated in `docs/`).
"""

import ast
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pinnkit"

# Benchmark result files shown on the site, as written by their scripts, each with the title
# it gets when it does not open with one of its own. A file listed here but missing fails the
# build, so a moved benchmark is noticed rather than silently dropped.
BENCHMARK_PAGES = {
    "benchmarks/accuracy/frontier.md": "Accuracy at the frontier",
    "benchmarks/accuracy/variants.md": "Training variants",
    "benchmarks/accuracy/geometry.md": "Geometry: the PINNacle cases",
    "benchmarks/discovery/suite.md": "Hidden-term discovery suite",
    "benchmarks/discovery/backends.md": "Discovery backends",
    "benchmarks/discovery/ceiling.md": "Lotka-Volterra: what the observations alone tell",
    "benchmarks/discovery/reaction_ceiling.md": "Reaction-diffusion: what the observations "
    "alone tell",
    "benchmarks/discovery/odebench.md": "ODEBench: hidden-term discovery",
    "benchmarks/speed/versus_deepxde.md": "Speed next to DeepXDE",
    "benchmarks/speed/host_memory.md": "Host memory kept in the process",
    "benchmarks/highdim/highdim.md": "High-dimensional PDEs: exact, STDE, Hutchinson",
}


def is_public(module: Path) -> bool:
    """Whether a source file is a public module: no part of its dotted path starts with `_`
    (`__init__.py` stands for its package; `__main__.py` is not a module to document)."""
    parts = module.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return not any(part.startswith("_") for part in parts)


def module_name(source: Path) -> str:
    """The dotted name of a source file (a package's `__init__.py` names the package)."""
    parts = source.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def literal_names(node: ast.expr) -> list[str]:
    """The names in an `__all__` list or tuple literal; none for anything computed."""
    try:
        return [n for n in ast.literal_eval(node) if isinstance(n, str)]
    except (ValueError, TypeError, SyntaxError):
        return []


def documented_here(source: Path) -> tuple[list[str], list[str]]:
    """What a module's page documents, and what it only points to, read from its source.

    A module's page documents the public names (no leading `_`) it defines itself, and those
    it takes from a private module (`pinnkit.x._impl`), whose objects have no page of their
    own. A name in its `__all__` that it imports from a public module is documented on that
    module's page, and is listed here as a link to it.
    """
    tree = ast.parse(source.read_text(encoding="utf-8"))
    package = module_name(source if source.name == "__init__.py" else source.parent)
    defined: list[str] = []
    from_private: list[str] = []
    from_public: list[str] = []
    exported: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not isinstance(target, ast.Name):
                    continue
                if target.id == "__all__":
                    exported += literal_names(node.value)
                elif not isinstance(node, ast.AugAssign):
                    defined.append(target.id)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from .x import a` inside `package`
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            for alias in node.names:
                origin = f"{base}.{alias.name}".split(".")
                private = any(part.startswith("_") for part in origin)
                (from_private if private else from_public).append(alias.asname or alias.name)

    members = [n for n in dict.fromkeys(defined + from_private) if not n.startswith("_")]
    links = [n for n in dict.fromkeys(from_public) if n in exported and n not in members]
    return members, links


def reference_page(source: Path) -> str:
    """The Markdown of one module's page: a mkdocstrings directive and, for a module that
    re-exports, links to where those names are documented."""
    name = module_name(source)
    members, links = documented_here(source)
    options = "\n".join(f"        - {m}" for m in members)
    text = f"::: {name}\n    options:\n"
    text += f"      members:\n{options}\n" if members else "      members: false\n"
    if links:
        text += "\n## Re-exported\n\nDocumented in the modules they come from:\n\n"
        text += "\n".join(f"- [`{n}`][{name}.{n}]" for n in sorted(links, key=str.lower))
        text += "\n"
    return text


def write_reference() -> None:
    """One page per public module, `reference/<dotted/path>.md` (a package's page is its
    `index.md`), and the literate-nav summary `reference/SUMMARY.md`."""
    nav = mkdocs_gen_files.Nav()
    for source in sorted(PACKAGE.rglob("*.py")):
        if not is_public(source):
            continue
        parts = tuple(module_name(source).split("."))
        if source.name == "__init__.py":
            page = Path("reference", *parts, "index.md")
        else:
            page = Path("reference", *parts).with_suffix(".md")
        nav[parts] = page.relative_to("reference").as_posix()
        with mkdocs_gen_files.open(page, "w") as file:
            file.write(reference_page(source))
        mkdocs_gen_files.set_edit_path(page, source.relative_to(ROOT))
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as file:
        file.writelines(nav.build_literate_nav())


def write_benchmarks() -> None:
    """The benchmark tables under their own paths, and `benchmarks/gallery/*.png`."""
    for name, title in BENCHMARK_PAGES.items():
        text = (ROOT / name).read_text(encoding="utf-8")
        if not text.startswith("# "):
            text = f"# {title}\n\n{text}"
        with mkdocs_gen_files.open(name, "w") as file:
            file.write(text)
        mkdocs_gen_files.set_edit_path(name, name)
    for figure in sorted((ROOT / "benchmarks" / "gallery").glob("*.png")):
        name = figure.relative_to(ROOT).as_posix()
        with mkdocs_gen_files.open(name, "wb") as file:
            file.write(figure.read_bytes())


write_reference()
write_benchmarks()
