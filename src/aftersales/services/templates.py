"""``Templates``: the text of the messages customers get and of the repair report, from
files a company can edit.

The shipped templates (``aftersales/templates/<language>/``: ``en`` and ``zh``) are Jinja2
files: one ``<message>.txt`` per message (its first line the subject), ``repair_report.html``
and ``words.toml`` (the words both use). A language without a file of its own uses the
first language's (``en/repair_report.html`` is the report in every language: its labels are
the language's words). A desk given a folder of its own
(``ServiceDesk(templates=...)``, ``[messages] templates`` in ``aftersales.toml``) reads each
file there first and falls back to the shipped one, so a company overrides only what it
changes. Jinja2 is imported when the first message is rendered (it costs start-up time a
desk that tells no customer anything should not pay).
"""

from __future__ import annotations

import os
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from aftersales.core.errors import ValidationError
from aftersales.core.messages import LANGUAGES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the package supports 3.10 through tomli
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

SHIPPED = "templates"


class Templates:
    """Renders the message and report templates; ``directory`` overrides the shipped ones."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = None if directory is None else Path(directory)
        if self.directory is not None and not self.directory.is_dir():
            raise ValidationError(
                f"the templates folder {str(self.directory)!r} does not exist; copy the shipped "
                "one (`aftersales messages templates --copy DIR`) and point at it"
            )
        self._lock = threading.Lock()
        self._env: Any = None
        self._words: dict[str, dict[str, dict[str, str]]] = {}

    @property
    def languages(self) -> tuple[str, ...]:
        return LANGUAGES

    def _environment(self) -> Any:
        with self._lock:
            if self._env is None:
                import jinja2  # costly at start-up; only desks that message customers need it

                shipped = jinja2.FileSystemLoader(str(resources.files("aftersales") / SHIPPED))
                loaders: list[jinja2.BaseLoader] = [shipped]
                if self.directory is not None:
                    loaders.insert(0, jinja2.FileSystemLoader(str(self.directory)))
                self._env = jinja2.Environment(
                    loader=jinja2.ChoiceLoader(loaders),
                    autoescape=jinja2.select_autoescape(["html"]),
                    undefined=jinja2.StrictUndefined,  # a misspelt name fails, never blanks
                    keep_trailing_newline=True,
                )
            return self._env

    def render(self, name: str, language: str, **context: Any) -> str:
        """The template ``<language>/<name>`` rendered with ``context`` and the language's
        words (``w``). A template that fails names its file and the error."""
        env = self._environment()
        try:
            try:
                template = env.get_template(f"{language}/{name}")
            except LookupError:  # jinja2's TemplateNotFound: the first language's file,
                # in this language's words (the shipped repair report is one file for both)
                template = env.get_template(f"{LANGUAGES[0]}/{name}")
            return str(template.render(w=self.words(language).get("report", {}),
                                       words=self.words(language), language=language,
                                       **context))  # fmt: skip
        except Exception as exc:  # jinja2's errors: a company's template is input
            raise ValidationError(
                f"template {language}/{name} could not be rendered: {type(exc).__name__}: {exc}"
            ) from None

    def message(self, name: str, language: str, **context: Any) -> tuple[str, str]:
        """``(subject, text)`` of message ``name``: the first line and the rest."""
        rendered = self.render(f"{name}.txt", language, **context)
        subject, _, body = rendered.partition("\n")
        return " ".join(subject.split()), body.lstrip("\n")

    def words(self, language: str) -> dict[str, dict[str, str]]:
        """The tables of ``<language>/words.toml`` (the company's file over the shipped)."""
        found = self._words.get(language)
        if found is not None:
            return found
        shipped = resources.files("aftersales") / SHIPPED / language / "words.toml"
        text = shipped.read_text(encoding="utf-8")
        tables: dict[str, dict[str, str]] = tomllib.loads(text)
        own = None if self.directory is None else self.directory / language / "words.toml"
        if own is not None and own.is_file():
            try:
                mine = tomllib.loads(own.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ValidationError(f"{own}: {exc}") from None
            for table, entries in mine.items():
                if isinstance(entries, dict):
                    tables[table] = {**tables.get(table, {}), **entries}
        self._words[language] = tables
        return tables


def shipped_folder() -> Path:
    """The folder of the shipped templates (to copy as a start for a company's own)."""
    return Path(str(resources.files("aftersales") / SHIPPED))


__all__ = ["Templates", "shipped_folder"]
