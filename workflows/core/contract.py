"""The contract between the engine and the models: every element id, data key and hook the engine
relies on, declared once. Deploy validation checks models against it (:mod:`workflows.design.validation`).
"""
from __future__ import annotations

# A script task with this id marks the moment a disclosure record is written: when it completes,
# the engine writes the record from the case data (:mod:`workflows.domain.disclosure`).
DISCLOSURE_HOOK = "write_disclosure"

# Case data the engine copies to the case row, so lists can show and search it without loading the case.
MATTER_KEY = "matter_code"
PARTY_KEY = "party_name"

# Facts supervision lists and counts read off the case row (column: the case data it comes from),
# written with every step.
FACTS = {
    "filed_on": "filing_date", "decided_on": "decision_date", "decision_kind": "decision_kind",
    "penalty_type": "penalty_type", "fine_amount": "fine_amount", "confiscation_amount": "confiscation_amount",
    "review_result": "legal_review_result",
}
# The handling limit (办案期限): the deadline setting named in the first key, counted from the date in
# the second; the case row keeps its last day.
LIMIT_NAME_KEY, LIMIT_START_KEY = "decision_timer_name", "decision_timer_start"

# Legal review (法制审核): the results its model writes to ``legal_review_result``, and the element
# where a returned case is corrected.
REVIEW_RESULTS = ("agree", "agree_after_coordination", "rejected")
REVIEW_RETURN_ELEMENT = "correct_case"

# Case data the engine adds when a case starts; diagrams read these and may not ask for them in forms.
CASE_NO_KEY = "case_no"
FILER_KEY = "filing_officer"
UNIT_KEY = "case_unit"
AGENCY_KEY = "agency_name"
START_KEYS = (CASE_NO_KEY, FILER_KEY, UNIT_KEY, AGENCY_KEY)

# Processes that publish the enforcement catalogue rather than decide cases: their disclosure
# records are catalogue entries, and they are numbered in their own series.
CATALOGUE_PROCESSES = frozenset({"pre_disclosure"})


# The annual statistics report (年度统计报告): a process of its own, numbered in its own series, whose
# script task ``REPORT_HOOK`` publishes the approved report of the year in ``REPORT_YEAR_KEY``
# (:mod:`workflows.domain.annual_report`). The report counts what these elements of the case models
# recorded: hearings held, collective discussions, transfers to judicial organs, legal-review opinions.
REPORT_PROCESS = "annual_report"
REPORT_HOOK = "publish_annual_report"
REPORT_YEAR_KEY = "report_year"
HEARING_ELEMENT, DISCUSSION_ELEMENT = "hold_hearing", "collective_discussion"
TRANSFER_ELEMENT, REVIEW_ELEMENT = "transfer_case", "review_case"


# Withdrawing or correcting a published decision (撤回、更正): a process of its own, numbered in its
# own series; its ``DISCLOSURE_HOOK`` applies the approved change to the record named in
# ``CORRECTION_TARGET_KEY`` (:mod:`workflows.domain.disclosure`) instead of writing a new one.
CORRECTION_PROCESS = "disclosure_correction"
CORRECTION_TARGET_KEY = "target_disclosure_id"


def number_series(process_id: str) -> str:
    """Which numbering setting a process's cases take: ``case``, ``matter``, ``report`` or ``correction``."""
    if process_id == REPORT_PROCESS:
        return "report"
    if process_id == CORRECTION_PROCESS:
        return "correction"
    return "matter" if process_id in CATALOGUE_PROCESSES else "case"


def disclosure_kind(process_id: str) -> str:
    return "matter" if process_id in CATALOGUE_PROCESSES else "decision"
