"""Flag rules, versioned with their template: from answers to the case's
sticky flags.  A rule sets its flag when ``all`` of its conditions hold, or
``any`` of them.  Conditions name a field by its dotted path and test it:

* ``in``: the answer is one of the listed codes;
* ``equals``: the answer is this code;
* ``contains_any``: the answer (a list) contains one of the listed codes;
* ``any_below`` / ``any_at_least``: the answer (a list of numbers) has one
  below / at least this value.

An absent answer, or ``unknown``, never satisfies a condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OPERATORS = ("in", "equals", "contains_any", "any_below", "any_at_least")


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    operand: Any

    def holds(self, answers: dict[str, Any]) -> bool:
        value: Any = answers
        for part in self.field.split("."):
            if not isinstance(value, dict) or part not in value:
                return False
            value = value[part]
        match self.operator:
            case "in":
                return value in self.operand
            case "equals":
                return bool(value == self.operand)
            case "contains_any":
                return isinstance(value, list) and any(item in self.operand for item in value)
            case "any_below":
                return isinstance(value, list) and any(isinstance(n, int) and n < self.operand for n in value)
            case "any_at_least":
                return isinstance(value, list) and any(isinstance(n, int) and n >= self.operand for n in value)
        return False


@dataclass(frozen=True)
class FlagRule:
    flag: str
    conditions: tuple[Condition, ...]
    needs_all: bool

    def holds(self, answers: dict[str, Any]) -> bool:
        results = (condition.holds(answers) for condition in self.conditions)
        return all(results) if self.needs_all else any(results)


def parse_rules(raw: list[dict[str, Any]]) -> list[FlagRule]:
    from app.cases.models import Flag

    rules = []
    for item in raw:
        flag = Flag(item["flag"]).value
        mode = "all" if "all" in item else "any"
        conditions = []
        for condition in item[mode]:
            operators = [op for op in OPERATORS if op in condition]
            if len(operators) != 1:
                raise ValueError(f"rule for {flag}: each condition needs exactly one of {OPERATORS}")
            conditions.append(Condition(condition["field"], operators[0], condition[operators[0]]))
        rules.append(FlagRule(flag, tuple(conditions), mode == "all"))
    return rules


def flags_raised(rules: list[FlagRule], answers: dict[str, Any]) -> list[str]:
    return sorted({rule.flag for rule in rules if rule.holds(answers)})
