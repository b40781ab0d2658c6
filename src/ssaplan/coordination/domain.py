"""Coordination's declaration: other donors' activities (IATI) and published aggregates;
overlaps between agencies and with other donors, reviewers' marks; gaps; donors'
division of labour and burden sharing; the regional view."""

from ssaplan.core.spec import Action, Command, Domain, Nav

DOMAIN = Domain(
    name="coordination",
    package="ssaplan.coordination",
    title="Coordination: overlaps, gaps, other donors, regions",
    uses=("reference", "portfolio", "assessment"),
    models=("ssaplan.coordination.models",),
    api=("ssaplan.coordination.api:router",),
    views=("ssaplan.coordination.views:router",),
    templates=True,
    nav=(Nav("Coordination", "/coordination", 35),),
    commands=(
        Command(("deconflict",), "ssaplan.coordination.cli:deconflict"),
        Command(("coordinate",), "ssaplan.coordination.cli:coordinate"),
    ),
    actions=(
        Action(
            "coordination:review",
            ("planner", "admin"),
            "mark overlap pairs confirmed, complementary or dismissed (pairs with a program "
            "of the reviewer's scope)",
        ),
        Action(
            "coordination:run",
            ("planner", "analyst", "admin"),
            "re-run overlap detection over the stored world",
            scoped=False,
        ),
    ),
    demo="ssaplan.coordination.demo:load",
    demo_order=30,
)
