"""The planning cycle's declaration: proposals, concurrence, notification, inbox."""

from ssaplan.core.spec import Action, Command, Domain, Nav, Role

DOMAIN = Domain(
    name="cycle",
    package="ssaplan.cycle",
    title="The interagency planning cycle",
    uses=("reference", "portfolio", "assessment", "compliance"),
    models=("ssaplan.cycle.models",),
    api=("ssaplan.cycle.api:router",),
    views=("ssaplan.cycle.views:router",),
    templates=True,
    nav=(Nav("Cycle", "/cycle", 50), Nav("Inbox", "/inbox", 55)),
    commands=(
        Command(("proposals",), "ssaplan.cycle.cli:app"),
        Command(("inbox",), "ssaplan.cycle.cli:inbox"),
    ),
    roles=(
        Role("reviewer", "concurs on proposals for its agency", rank=2, default_scope="agency"),
        Role("chief_of_mission", "concurs on everything in its country (give a country scope)", 3),
        Role("legal", "gives legal review where a restriction or vetting issue exists", 3),
        Role("coordinator", "runs the cycle: approves, notifies Congress, rejects", 4),
    ),
    actions=(
        Action("proposal:write", ("planner", "admin"), "draft, submit, revise and obligate"),
        Action(
            "proposal:concur",
            ("reviewer", "planner", "admin"),
            "concur on proposals for one's own agency",
        ),
        Action(
            "proposal:concur_mission",
            ("chief_of_mission",),
            "concur as chief of mission for proposals in one's country",
        ),
        Action("proposal:legal", ("legal",), "give legal review", scoped=False),
        Action(
            "proposal:comment",
            ("planner", "reviewer", "chief_of_mission", "legal", "coordinator", "admin"),
            "comment on proposals",
            scoped=False,
        ),
        Action(
            "proposal:approve",
            ("coordinator", "admin"),
            "approve or reject proposals, record notification, holds and clearance",
            scoped=False,
        ),
        Action("cycle:manage", ("coordinator", "admin"), "open a fiscal year's calendar", False),
    ),
    demo="ssaplan.cycle.demo:load",
    demo_order=70,
)
