"""Every static check of the language: each test fails if its check goes."""

from __future__ import annotations

import pytest
from conftest import MINIMAL, policy_errors, with_minimal

from aftersales import PolicyError, parse_policy


def only_error(text: str) -> tuple[str, str | None]:
    error = policy_errors(text)
    assert len(error.errors) == 1, str(error)
    return error.errors[0].message, error.errors[0].hint


def test_minimal_policy_loads() -> None:
    policy = parse_policy(MINIMAL)
    assert policy.priority_names == ("urgent", "general")


# ---- required sections -----------------------------------------------------------------------
def test_policy_section_required() -> None:
    message, hint = only_error(MINIMAL.split("}\n", 1)[1])
    assert "starts with a policy section" in message and "timezone" in (hint or "")


def test_policy_section_first() -> None:
    head, rest = MINIMAL.split("}\n", 1)
    message, _ = only_error(rest + head + "}\n")
    assert "must come first" in message


def test_timezone_required() -> None:
    message, _ = only_error(MINIMAL.replace('  timezone "Asia/Shanghai"\n', ""))
    assert "needs a timezone" in message


def test_unknown_timezone() -> None:
    message, hint = only_error(MINIMAL.replace("Asia/Shanghai", "Asia/Shangai"))
    assert 'unknown time zone "Asia/Shangai"' in message and "IANA" in (hint or "")


def test_unknown_currency() -> None:
    message, _ = only_error(MINIMAL.replace("currency CNY", "currency XYZ"))
    assert 'unknown currency "XYZ"' in message


def test_priority_rules_required() -> None:
    text = MINIMAL.replace('priority urgent  when severity == "critical"\n', "").replace(
        "priority general otherwise\n", ""
    )
    error = policy_errors(text)
    assert any("no priority rules" in e.message for e in error.errors)


def test_last_priority_must_be_otherwise() -> None:
    text = MINIMAL.replace(
        "priority general otherwise", 'priority general when severity == "minor"'
    )
    message, hint = only_error(text)
    assert "last priority rule must be an otherwise" in message
    assert "priority general otherwise" in (hint or "")


def test_rule_after_otherwise_never_applies() -> None:
    message, _ = only_error(with_minimal("priority urgent when machine_down\n"))
    assert "never applies" in message


def test_every_priority_needs_an_sla() -> None:
    message, hint = only_error(
        MINIMAL.replace("sla general {\n  response within 4 working hours\n}\n", "")
    )
    assert 'priority "general" has no sla block' in message and "sla general" in (hint or "")


def test_sla_for_unknown_priority_suggests() -> None:
    message, hint = only_error(with_minimal("sla genral {\n  response within 1 hour\n}\n"))
    assert 'no priority rule names "genral"' in message and hint == 'did you mean "general"?'


def test_sections_appear_once() -> None:
    message, hint = only_error(with_minimal("warn at 50%\nwarn at 80%\n"))
    assert "the warn at section appears twice" in message and "t.policy:18" in (hint or "")


def test_sla_block_once_per_priority() -> None:
    message, _ = only_error(
        with_minimal("sla urgent {\n  contact within 1 hour after assigned\n}\n")
    )
    assert "sla urgent appears twice" in message


# ---- weights ------------------------------------------------------------------------------------
APPRAISAL = """
appraisal {
  sources { supervisor 50%
    customer 30%
    self 20% }
  indicators {
    performance 50%
    attitude 20%
    skills 30%
  }
  grade good when score >= 75
  grade pass when score >= 60
  grade fail otherwise
}
"""


def test_appraisal_loads_and_scores() -> None:
    policy = parse_policy(with_minimal(APPRAISAL))
    assert policy.appraisal is not None
    assert policy.appraisal.grade_for(60).name == "pass"
    assert policy.appraisal.grade_for("59.99").name == "fail"


@pytest.mark.parametrize(
    ("old", "new", "what", "total"),
    [
        ("self 20%", "self 10%", "source", "90"),
        ("skills 30%", "skills 35%", "indicator", "105"),
    ],
)
def test_weights_add_up_to_100(old: str, new: str, what: str, total: str) -> None:
    message, _ = only_error(with_minimal(APPRAISAL.replace(old, new)))
    assert message == f"the {what} weights add up to {total}%, not 100%"


def test_measure_weights_add_up() -> None:
    text = APPRAISAL.replace(
        "  grade good",
        "  measure performance {\n    tasks_completed 40% target 20 per month\n"
        "    satisfaction 50% target 4.5\n  }\n  grade good",
    )
    message, _ = only_error(with_minimal(text))
    assert message == "the measure performance weights add up to 90%, not 100%"


def test_assessment_weights_add_up() -> None:
    message, _ = only_error(with_minimal("training {\n  assessment theory 40%, practical 40%\n}\n"))
    assert message == "the assessment weights add up to 80%, not 100%"


def test_unknown_metric_lists_known_ones() -> None:
    text = APPRAISAL.replace(
        "  grade good", "  measure performance {\n    speed 100% target 3\n  }\n  grade good"
    )
    message, hint = only_error(with_minimal(text))
    assert message == 'unknown metric "speed"'
    assert hint is not None and "tasks_completed" in hint and "first_time_fix" in hint


def test_misspelled_metric_suggests() -> None:
    text = APPRAISAL.replace(
        "  grade good", "  measure performance {\n    satisfacton 100% target 4\n  }\n  grade good"
    )
    assert only_error(with_minimal(text))[1] == 'did you mean "satisfaction"?'


def test_measure_names_an_indicator() -> None:
    text = APPRAISAL.replace(
        "  grade good", "  measure perfomance {\n    satisfaction 100% target 4\n  }\n  grade good"
    )
    assert only_error(with_minimal(text)) == (
        'unknown indicator "perfomance"',
        'did you mean "performance"?',
    )


def test_unknown_source_suggests() -> None:
    message, hint = only_error(with_minimal(APPRAISAL.replace("customer 30%", "custmer 30%")))
    assert message == 'unknown source "custmer"' and hint == 'did you mean "customer"?'


# ---- grades ----------------------------------------------------------------------------
def test_grades_ordered_from_highest() -> None:
    text = APPRAISAL.replace(
        "grade good when score >= 75\n  grade pass when score >= 60",
        "grade pass when score >= 60\n  grade good when score >= 75",
    )
    message, _ = only_error(with_minimal(text))
    assert "ordered from the highest threshold down" in message


def test_grades_end_in_otherwise() -> None:
    message, _ = only_error(
        with_minimal(APPRAISAL.replace("grade fail otherwise", "grade fail when score >= 0"))
    )
    assert message == "the last grade must be an otherwise grade"


def test_grade_after_otherwise() -> None:
    text = APPRAISAL.replace(
        "grade fail otherwise", "grade fail otherwise\n  grade worse when score >= 10"
    )
    assert "after the otherwise grade" in only_error(with_minimal(text))[0]


def test_grade_by_score_only() -> None:
    text = APPRAISAL.replace("grade good when score >= 75", "grade good when scor >= 75")
    assert only_error(with_minimal(text)) == (
        'grades are given by score, not "scor"',
        'did you mean "score"?',
    )


def test_outcomes_name_grades() -> None:
    text = APPRAISAL.replace(
        "  grade fail otherwise", "  grade fail otherwise\n  reward excelent\n  improve fail"
    )
    assert only_error(with_minimal(text)) == (
        'unknown grade "excelent"',
        'expected one of: "good", "pass", "fail"',
    )


def test_dismiss_counts_months() -> None:
    text = APPRAISAL.replace(
        "  grade fail otherwise",
        "  grade fail otherwise\n  dismiss after 3 consecutive weeks graded fail",
    )
    assert "count consecutive months" in only_error(with_minimal(text))[0]


# ---- names: priorities, milestones, events, fields --------------------------------------------
def test_unknown_milestone_suggests() -> None:
    text = MINIMAL.replace(
        "response within 30 minutes", "response within 30 minutes\n  arival within 8 hours"
    )
    error = policy_errors(text)
    assert str(error.errors[0]).splitlines()[0] == 't.policy:14:3: unknown milestone "arival"'
    assert error.hint == 'did you mean "arrival"?'


def test_unknown_event_suggests() -> None:
    text = MINIMAL.replace(
        "response within 30 minutes",
        "response within 30 minutes\n  contact within 1 hour after asigned",
    )
    assert only_error(text) == ('unknown event "asigned"', 'did you mean "assigned"?')


def test_clock_cannot_start_at_its_own_event() -> None:
    text = MINIMAL.replace("response within 30 minutes", "contact within 1 hour after contacted")
    assert "cannot start at contacted" in only_error(text)[0]


def test_only_arrival_by_appointment() -> None:
    text = MINIMAL.replace("response within 30 minutes", "contact by appointment")
    assert only_error(text)[0] == "only arrival can be due by appointment, not contact"


def test_on_calendar_only_with_working_time() -> None:
    text = MINIMAL.replace("response within 30 minutes", 'response within 30 minutes on "x"')
    assert "only goes with working time" in only_error(text)[0]


def test_named_calendar_must_exist() -> None:
    text = with_minimal('calendar "extended" { workweek mon..sun  hours 06:00-22:00 }\n').replace(
        "response within 30 minutes", 'response within 30 working minutes on "extnded"'
    )
    assert only_error(text) == ('no calendar is named "extnded"', 'did you mean "extended"?')


def test_working_time_needs_a_calendar() -> None:
    text = MINIMAL.replace(
        "calendar {\n  workweek mon..fri\n  hours    08:30-12:00, 13:00-17:30\n}\n", ""
    )
    assert "working time needs a calendar" in only_error(text)[0]


def test_unknown_field_suggests() -> None:
    text = MINIMAL.replace('severity == "critical"', 'severty == "critical"')
    assert only_error(text) == ('unknown field "severty"', 'did you mean "severity"?')


def test_custom_field_must_be_declared() -> None:
    text = MINIMAL.replace('severity == "critical"', 'custom.contract == "gold"')
    message, hint = only_error(text)
    assert message == 'custom field "custom.contract" is not declared' and "fields {" in (
        hint or ""
    )


def test_declared_custom_field_type_checked() -> None:
    text = with_minimal("fields {\n  custom.tons number\n}\n").replace(
        'severity == "critical"', 'custom.tons >= "50"'
    )
    message, hint = only_error(text)
    assert message == 'cannot compare custom.tons (number) with "50" (text)' and "quotes" in (
        hint or ""
    )


def test_field_types_are_known() -> None:
    text = with_minimal("fields {\n  custom.tons numbr\n}\n")
    assert only_error(text) == ('unknown field type "numbr"', 'did you mean "number"?')


def test_reserved_word_is_not_a_field() -> None:
    message, _ = only_error(MINIMAL.replace('severity == "critical"', "within == 1"))
    assert message == '"within" is a reserved word, not a field'


def test_reserved_word_cannot_name_a_priority() -> None:
    text = MINIMAL.replace("priority urgent  when", "priority when when").replace(
        "sla urgent", "sla when"
    )
    assert any('"when" is a reserved word' in e.message for e in policy_errors(text).errors)


def test_keywords_that_are_not_reserved_can_be_names() -> None:
    text = with_minimal(
        APPRAISAL.replace("grade good", "grade repair").replace(
            "grade pass when score >= 60", "grade pass when score >= 60"
        )
    )
    assert parse_policy(text).appraisal.grades[0].name == "repair"  # type: ignore[union-attr]


def test_priority_named_in_expression_must_exist() -> None:
    text = with_minimal('training {\n  require certificate "x" when priority == "urgnt"\n}\n')
    assert only_error(text) == ('no priority is named "urgnt"', 'did you mean "urgent"?')


def test_example_priority_must_exist() -> None:
    text = with_minimal(
        'example "e" {\n  given case { severity: "critical" }\n  expect priority urgnt\n}\n'
    )
    assert only_error(text) == ('no priority rule names "urgnt"', 'did you mean "urgent"?')


# ---- units --------------------------------------------------------------------------------------
def test_percentage_is_no_duration() -> None:
    error = policy_errors(MINIMAL.replace("within 30 minutes", "within 30%"))
    assert 'expected a duration such as "4 working hours"' in error.message


def test_working_weeks_do_not_exist() -> None:
    assert (
        "working time is counted in minutes, hours or days"
        in only_error(MINIMAL.replace("within 30 minutes", "within 1 working week"))[0]
    )


def test_money_in_the_policy_currency() -> None:
    text = with_minimal("expenses {\n  limit meals 100 EUR per day\n  approve by manager\n}\n")
    assert only_error(text) == (
        "amounts in this policy are in CNY, not EUR",
        "write the amount in CNY",
    )


def test_limit_periods_are_known() -> None:
    text = with_minimal("expenses {\n  limit meals 100 CNY per meal\n  approve by manager\n}\n")
    assert only_error(text)[0] == 'unknown limit period "meal"'


def test_roles_are_known() -> None:
    text = with_minimal("expenses {\n  approve by manger then finance\n}\n")
    assert only_error(text) == ('unknown role "manger"', 'did you mean "manager"?')


def test_claims_need_a_default_chain() -> None:
    text = with_minimal("expenses {\n  approve by manager when amount > 10 CNY\n}\n")
    assert "add one without a when" in only_error(text)[0]


def test_nobody_approves_twice() -> None:
    text = with_minimal("expenses {\n  approve by manager then manager\n}\n")
    assert "appears twice in one approval chain" in only_error(text)[0]


# ---- calendar -----------------------------------------------------------------------------------
def calendar_error(body: str) -> tuple[str, str | None]:
    text = MINIMAL.replace("  workweek mon..fri\n  hours    08:30-12:00, 13:00-17:30\n", body)
    return only_error(text)


def test_overlapping_hours() -> None:
    assert (
        calendar_error("  workweek mon..fri\n  hours 08:00-12:30, 12:00-17:00\n")[0]
        == "working hours overlap"
    )


def test_range_that_ends_before_it_starts() -> None:
    assert (
        "ends before it starts" in calendar_error("  workweek mon..fri\n  hours 17:00-08:00\n")[0]
    )


def test_time_of_day_is_valid() -> None:
    assert (
        calendar_error("  workweek mon..fri\n  hours 08:00-25:00\n")[0]
        == '"25:00" is not a time of day'
    )


def test_dates_are_valid() -> None:
    body = "  workweek mon..fri\n  hours 08:00-17:00\n  holiday 2026-02-30\n"
    assert calendar_error(body) == ('"2026-02-30" is not a date', "write dates as YYYY-MM-DD")


def test_holiday_inside_no_workday() -> None:
    body = (
        "  workweek mon..fri\n  hours 08:00-17:00\n"
        "  holiday 2026-10-01..2026-10-07\n  workday 2026-10-03\n"
    )
    assert "both a holiday and a working day" in calendar_error(body)[0]


def test_weekdays_are_known() -> None:
    assert calendar_error("  workweek mon..fir\n  hours 08:00-17:00\n") == (
        'unknown weekday "fir"',
        'did you mean "fri"?',
    )


def test_calendar_needs_hours() -> None:
    assert "has no hours line" in calendar_error("  workweek mon..fri\n")[0]


def test_warn_percentages_rise() -> None:
    assert "must rise" in only_error(with_minimal("warn at 80%, 50%\n"))[0]


# ---- all errors at once --------------------------------------------------------------------------
def test_all_errors_of_a_file_in_one_run() -> None:
    text = (
        MINIMAL.replace("Asia/Shanghai", "Mars/Olympus")
        .replace('severity == "critical"', 'severty == "critical"')
        .replace(
            "response within 4 working hours",
            "response within 4 working hours\n  arival within 1 hour",
        )
    )
    text += "warn at 80%, 50%\nescalate aftr 2 rejections\n"
    error = policy_errors(text)
    messages = [e.message for e in error.errors]
    assert len(messages) == 5, messages
    assert [e.line for e in error.errors] == sorted(e.line or 0 for e in error.errors)
    first = error.errors[0]
    assert (error.filename, error.line, error.column, error.hint) == (
        first.filename,
        first.line,
        first.column,
        first.hint,
    )
    assert str(error).endswith("5 errors in t.policy")


def test_str_reads_like_a_compiler() -> None:
    error = policy_errors(MINIMAL.replace("response within 30 minutes", "arival within 30 minutes"))
    assert str(error).splitlines() == [
        't.policy:13:3: unknown milestone "arival"',
        "      arival within 30 minutes",
        "      ^^^^^^",
        'hint: did you mean "arrival"?',
    ]


def test_caret_aligned_under_chinese_text() -> None:
    text = with_minimal("fields {\n  custom.合約等級 text\n}\n").replace(
        'severity == "critical"', "custom.合約等級 == 1"
    )
    lines = str(policy_errors(text)).splitlines()
    source, caret = lines[1], lines[2]
    # 合約等級 is four wide characters: eight columns, so the caret run is 8 + len("custom. == 1")
    prefix = source.index("custom")
    assert caret.index("^") == prefix + 0
    assert caret.count("^") == len("custom.") + 8 + len(" == 1")


def test_policy_error_is_a_value_error_and_pickles() -> None:
    import pickle

    error = policy_errors("nonsense")
    assert isinstance(error, ValueError)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error)


def test_no_lark_names_reach_messages() -> None:
    broken = [
        MINIMAL.replace("within 30 minutes", "within"),
        MINIMAL + "sla {",
        "policy",
        MINIMAL.replace("}", "", 1),
        MINIMAL + "warn at 50% 60%\n",
        MINIMAL + "@@\n",
    ]
    for text in broken:
        message = str(policy_errors(text))
        for word in ("Token", "__ANON", "$END", "_NL", "Unexpected", "RBRACE", "NUMBER", "NAME"):
            assert word not in message, (word, message)


def test_parse_error_is_a_policy_error_not_lark() -> None:
    with pytest.raises(PolicyError):
        parse_policy("policy {")


# ---- one error for one mistake ----------------------------------------------------------------
def test_an_unclosed_block_is_one_error_where_it_opened() -> None:
    text = MINIMAL.replace("  response within 30 minutes\n}\n", "  response within 30 minutes\n")
    [error] = policy_errors(text).errors
    assert (error.line, error.column) == (12, 12)
    assert error.message == (
        'the block "sla urgent {" opened on line 12 is not closed before line 14 ("sla general {")'
    )
    assert error.hint == 'add "}" before line 14'


def test_an_unclosed_last_block_is_named_at_the_end_of_the_file() -> None:
    [error] = policy_errors(MINIMAL.rstrip().removesuffix("}")).errors
    assert error.line == 15 and "is not closed by the end of the file" in error.message


def test_milestones_inside_a_block_do_not_look_like_sections() -> None:
    text = MINIMAL.replace("  response within 30 minutes\n",
                           "  response within 30 minutes\n  close within 5 days\n"
                           "  callback within 2 days after accepted\n")  # fmt: skip
    assert parse_policy(text).sla("urgent").target("close") is not None
    broken = text.replace("sla general {", "sla general").replace(
        "within 4 working hours\n}", "within 4 working hours\n"
    )
    assert all("is not closed" not in e.message for e in policy_errors(broken).errors)


def test_a_misspelt_keyword_does_not_also_report_what_it_declared() -> None:
    text = MINIMAL.replace("priority urgent  when", "priorty urgent  when")
    [error] = policy_errors(text).errors
    assert error.message.startswith('unexpected "priorty"') and error.hint == (
        'did you mean "priority"?')  # fmt: skip
    other = text.replace("sla urgent {", "sla urgnet {")  # still its own mistake
    assert any('no priority rule names "urgnet"' in e.message
               for e in policy_errors(other).errors)  # fmt: skip
