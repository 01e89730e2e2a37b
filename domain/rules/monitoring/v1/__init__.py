"""The monitoring table of rule version 1, as it stood before the rule audit (issue 13,
item 8), kept verbatim so that a care view answered with it replays to the very bytes it
recorded (projections.role_views: "an existing kind's answer never changes shape"). Its
modules are frozen copies; change the current table (domain.rules.monitoring), never
these."""
