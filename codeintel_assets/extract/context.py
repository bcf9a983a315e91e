"""One file, derived once: the per-file context every static plane's extractor reads from.

A file is read and decoded once (``read_source``), parsed once (``ast.parse``), compiled once
(``compile`` of the exact bytes, seed §2.1), given to ``symtable.symtable`` once, walked once
(``walk_ast``: the shared preorder numbering) and line-indexed once. Each derivation is computed on
first use and kept, and so is the exception it raised: a plane that needs a derivation that failed
gets that failure (and records it in its status row), the other planes go on.
"""

import ast
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from codeintel_assets.extract.spans import LineIndex, module_name_for
from codeintel_assets.extract.syntax import AstNodeRow, SourceFile, walk_ast

COMPILE_MODE, COMPILE_OPTIMIZE, COMPILE_DONT_INHERIT = "exec", 0, True


class SourceUnavailable(Exception):
    """The file was not read and decoded (unreadable, too large, undecodable): nothing is derived from it.

    Raised by every derivation of a context whose source failed, before any work: an over-limit file is
    never parsed, compiled or walked by any plane (``--max-file-bytes`` bounds the time and memory a file
    can cost), and the plane that asked records the source's own reason."""

    def __init__(self, error):
        super().__init__(f"{error.stage} failed: {error.type}: {error.msg}")
        self.error = error


@dataclass
class FileContext:
    """A file as read, plus everything derived from it, each computed at most once."""

    src: SourceFile
    module_name: str
    run_id: str | None = None
    _done: dict[str, tuple[bool, Any]] = field(default_factory=dict, repr=False)

    @property
    def path(self) -> str:
        return self.src.path

    @property
    def file_id(self) -> str:
        return self.src.file_id

    def _once(self, name: str, fn: Callable[[], Any]) -> Any:
        got = self._done.get(name)
        if got is None:
            if self.src.error is not None:
                raise SourceUnavailable(self.src.error)
            try:
                got = (True, fn())
            except Exception as exc:  # noqa: BLE001 - kept and re-raised to every plane that needs it
                got = (False, exc)
            self._done[name] = got
        ok, value = got
        if not ok:
            raise value
        return value

    def lines(self) -> LineIndex:
        return self._once("lines", lambda: LineIndex(self.src.utf8))

    def tree(self) -> ast.Module:
        """``ast.parse`` of the exact bytes (SyntaxWarnings are not failures)."""
        def parse():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(self.src.data, filename=self.path, mode="exec")
        return self._once("tree", parse)

    def ast_rows(self) -> list[AstNodeRow]:
        """The shared preorder walk: ``ast_node_id`` ordinals agree across planes."""
        return self._once("ast_rows", lambda: walk_ast(self.tree(), self.lines()))

    def code(self) -> CodeType:
        """The pinned compiler boundary (seed §2.1): exact file bytes, exec mode, no inherited flags."""
        def compile_():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes etc. is not a failure
                return compile(self.src.data, self.path, COMPILE_MODE, dont_inherit=COMPILE_DONT_INHERIT,
                               optimize=COMPILE_OPTIMIZE)
        return self._once("code", compile_)

    def symtable_tree(self):
        """``symtable.symtable(source, path, "exec")`` walked once (SYM-ALG-1)."""
        from codeintel_assets.extract.symtable import read_symtable, walk_symtable
        return self._once("symtable_tree", lambda: walk_symtable(read_symtable(self.src.data, self.path), self.path))

    def put(self, name: str, value: Any) -> None:
        """Keep an in-memory result of one plane for the planes after it in the same pass."""
        self._done["put:" + name] = (True, value)

    def get(self, name: str) -> Any:
        """What an earlier plane of this pass ``put`` (KeyError if it did not run here)."""
        got = self._done.get("put:" + name)
        if got is None:
            raise KeyError(f"{name}: not computed by an earlier plane of this pass")
        return got[1]

    def memo(self, name: str, fn: Callable[[], Any]) -> Any:
        """A derivation shared by two planes (e.g. the code-unit <-> scope crosswalk)."""
        return self._once("memo:" + name, fn)


def as_context(src: "SourceFile | FileContext", module_name: str | None = None, run_id: str | None = None) -> FileContext:
    """A context for a bare SourceFile (tests, notebooks): the module is named from the path."""
    if isinstance(src, FileContext):
        return src
    return FileContext(src, module_name or module_name_for(src.path), run_id)
