"""Column presets for CRM exports: ``PRESETS[preset][kind]`` maps an export's header to dynbooks columns.

A preset is applied before ``--mapping``; a mapping entry wins over the preset for the same source
column, and may also rename a preset's output (``owner_sdr,owner_ae``).

**salesforce** (API field names, as Data Loader and most export tools write them):

- accounts (Account): ``Id Name Website Industry NumberOfEmployees AnnualRevenue BillingCountry
  BillingState OwnerId``. ``OwnerId`` becomes ``owner_sdr`` by default, because the account owner is
  usually the SDR who prospects it; remap it with ``--mapping`` (``OwnerId,owner_ae``) where the
  account owner is an AE. Every other Account column becomes a custom field.
- reps (User): ``Id Name Email`` plus ``IsActive``, ``TimeZoneSidKey`` and ``ManagerId`` (standard
  User fields). ``book_rule`` is required and has no Salesforce field: add the column, or map one of
  yours to it (``UserRole.Name`` is not mapped, because role names rarely equal book rule names).
- activities (Task): ``Id AccountId OwnerId Type ActivityDate``; ``TaskSubtype`` stands in for
  ``Type`` when an export has no ``Type`` column (when both exist, ``Type`` wins).
- opportunities (Opportunity): ``Id AccountId OwnerId CreatedDate StageName Amount IsClosed IsWon
  CloseDate``.
- signals: Salesforce has no standard signal object; nothing is mapped.

With this preset, 15-character ids in ``account_id rep_id opportunity_id activity_id`` and every
``owner_*`` column are normalised to the 18-character form (see ``values.salesforce_id``), so files
from reports (15) and from the API (18) name the same records.

**hubspot** (the column labels of HubSpot's CRM export, default properties):

- accounts (companies): ``Record ID, Company name, Company Domain Name, Industry, Number of
  Employees, Annual Revenue, Country/Region, State/Region, Time Zone, Company owner`` (→ ``owner_sdr``).
- opportunities (deals): ``Record ID, Deal Stage, Amount, Create Date, Close Date, Deal owner`` and
  the company association ``Associated Company IDs (Primary)`` (else ``Associated Company IDs``).
  ``is_closed``/``is_won`` are mapped from ``Is Closed Won`` only to ``is_won``; HubSpot exports no
  standard "is closed" column under a stable label, so ``is_closed`` is left unmapped.
- activities: ``Record ID, Activity date, Activity assigned to, Activity type`` and the company
  association as for deals. These labels follow HubSpot's activity export as documented at the time
  of writing; they were not checked against a live portal, so expect to add a ``--mapping``.
- reps, signals: HubSpot has no standard export for them; nothing is mapped.

Caveat for HubSpot: owner columns (``Company owner``, ``Deal owner``, ``Activity assigned to``) hold the
owner's *name*, not an id, so the reps file must use those names as ``rep_id`` (or map them).
"""

from __future__ import annotations

__all__ = ["PRESETS"]

PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "salesforce": {
        "accounts": {
            "Id": "account_id",
            "Name": "name",
            "Website": "domain",
            "Industry": "industry",
            "NumberOfEmployees": "employees",
            "AnnualRevenue": "annual_revenue",
            "BillingCountry": "country",
            "BillingState": "region",
            "OwnerId": "owner_sdr",
        },
        "reps": {
            "Id": "rep_id",
            "Name": "name",
            "Email": "email",
            "IsActive": "active",
            "TimeZoneSidKey": "timezone",
            "ManagerId": "manager",
        },
        "activities": {
            "Id": "activity_id",
            "AccountId": "account_id",
            "OwnerId": "rep_id",
            "Type": "type",
            "TaskSubtype": "type",
            "ActivityDate": "occurred_at",
        },
        "signals": {},
        "opportunities": {
            "Id": "opportunity_id",
            "AccountId": "account_id",
            "OwnerId": "rep_id",
            "CreatedDate": "created_at",
            "StageName": "stage",
            "Amount": "amount",
            "IsClosed": "is_closed",
            "IsWon": "is_won",
            "CloseDate": "closed_at",
        },
    },
    "hubspot": {
        "accounts": {
            "Record ID": "account_id",
            "Company name": "name",
            "Company Domain Name": "domain",
            "Industry": "industry",
            "Number of Employees": "employees",
            "Annual Revenue": "annual_revenue",
            "Country/Region": "country",
            "State/Region": "region",
            "Time Zone": "timezone",
            "Company owner": "owner_sdr",
        },
        "reps": {},
        "activities": {
            "Record ID": "activity_id",
            "Associated Company IDs (Primary)": "account_id",
            "Associated Company IDs": "account_id",
            "Activity assigned to": "rep_id",
            "Activity type": "type",
            "Activity date": "occurred_at",
        },
        "signals": {},
        "opportunities": {
            "Record ID": "opportunity_id",
            "Associated Company IDs (Primary)": "account_id",
            "Associated Company IDs": "account_id",
            "Deal owner": "rep_id",
            "Create Date": "created_at",
            "Deal Stage": "stage",
            "Amount": "amount",
            "Is Closed Won": "is_won",
            "Close Date": "closed_at",
        },
    },
}
"""When two export columns map to the same dynbooks column, the one listed first wins and the other
keeps its own name (so it is ignored, or for accounts kept as a custom field)."""
