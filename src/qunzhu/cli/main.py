"""Entry point: ``qunzhu``. Each area registers its own Typer app here, one line each."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="qunzhu",
    help="群主 qunzhu — community operations for chat groups.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

from qunzhu.cli import backup, core, importing, send, serve, today, words, worker  # noqa: E402


@app.callback()
def _root(
    lang: str | None = typer.Option(
        None,
        "--lang",
        envvar="QUNZHU_LANG",
        help="Language of the output: zh-CN or en (default QUNZHU_LANGUAGE, else zh-CN).",
    ),
) -> None:
    """群主 qunzhu — community operations for chat groups."""
    words.set_language(lang)


app.command()(core.init)
app.command()(core.ingest)
app.command()(core.demo)
app.command()(serve.serve)
app.command()(worker.worker)
app.command()(backup.backup)
app.command()(backup.restore)
app.command("import")(importing.import_)
app.command()(send.send)
app.command()(send.sent)
app.command()(today.today)
app.add_typer(core.community_app, name="community")
app.add_typer(core.config_app, name="config")
app.add_typer(core.db_app, name="db")
app.add_typer(serve.schedule_app, name="schedule")

# Sub-apps (one line each; keep alphabetical):
from qunzhu.cli import calendar as calendar_cli  # noqa: E402
from qunzhu.cli import connect as connect_cli  # noqa: E402
from qunzhu.cli import growth as growth_cli  # noqa: E402
from qunzhu.cli import intelligence, members, spec  # noqa: E402
from qunzhu.cli import library as library_cli  # noqa: E402
from qunzhu.cli import playbook as playbook_cli  # noqa: E402
from qunzhu.cli import tasks as tasks_cli  # noqa: E402
from qunzhu.cli.moderation import app as moderation_app  # noqa: E402
from qunzhu.cli.operators import app as operator_app  # noqa: E402

app.add_typer(calendar_cli.app, name="calendar")
app.add_typer(library_cli.app, name="library")
app.add_typer(members.app, name="members")
app.add_typer(moderation_app, name="moderation")
app.add_typer(operator_app, name="operator")
app.add_typer(playbook_cli.app, name="playbook")
app.add_typer(spec.app, name="spec")
app.add_typer(tasks_cli.app, name="task")
intelligence.register(app)  # recompute, health, funnel, report; members list/explain
connect_cli.register(app)  # connect telegram|onebot|wecom; connectors
growth_cli.register(app)  # referral, applications, capacity, membership, routing


def main() -> None:
    app()
