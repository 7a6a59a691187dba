"""The access matrix: every URL pattern x every role x GET and POST, against a table kept here.

Each cell asks a real URL built from real objects, as one role, with an empty body, and sorts
the answer into an outcome class:

    ok      2xx, 400 (a form's errors), or a redirect that is not to a sign-in page
    login   a redirect to the sign-in page (the site's or the admin's)
    denied  401, 403 or 404
    method  405
    unwell  503, from the health probe only (here beat has never run, so it says so)

The table (EXPECTED_TABLE) names every URL pattern of config.urls, the admin's and the API's
included; a pattern that is not in it fails the test by name, so a new view cannot ship
without someone deciding who may reach it. Every cell runs in a savepoint that is rolled
back, with a fresh client, so no cell sees what another did.

The object probes then ask for someone else's complaint (by its id, id+1 and id-1) and for
customer links that were tampered with: each must answer 404 (401/403 for the API without a
token or a role) and never show the complaint's reference or customer name.

Set ACCESS_MATRIX_DUMP=<file> to write the observed table in EXPECTED_TABLE's format.
"""

import logging
import os
from datetime import date, timedelta
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.models import ApiTokenScope
from accounts.services import api_token_create
from complaints import links, services
from complaints.models import (
    BusinessCalendar,
    ClockDefinition,
    Complaint,
    ErasureRequest,
    Holiday,
    RegulatoryProfile,
    RequiredElement,
    ResponseEnclosure,
    ResponseTemplate,
    RetentionPolicy,
    ReturnGrouping,
)
from complaints.permissions import can_see, visible_complaints
from reports.models import ImprovementAction, ProcedureReview
from reports.services import report_build, return_produce
from tests import factories
from tests.mail import sample

ROLES = ("anonymous", "csr", "resolver", "manager", "administrator", "outsider", "link")
METHODS = ("GET", "POST")
OUTCOMES = {"ok", "login", "denied", "method", "unwell"}

# One row per URL pattern (its name; an unnamed pattern by its route) and method; one column
# per role in ROLES order. "link" is an anonymous visitor holding a valid customer link: it
# uses that link's token on customer:* URLs, where every other role uses a token that is not
# a link ("x"). The sample complaint is unassigned, logged by csr and not escalated, so the
# resolution team does not see it; the consultation on another complaint asks the resolver.
# Column heads: mgr = manager, admin = administrator (a superuser), nobody = outsider.
EXPECTED_TABLE = """
# name, or route if unnamed                        anon   csr    resolv mgr    admin  nobody link
# The admin: staff only; managers keep the settings lists, the superuser the rest. An
# object's bare URL (<id>/) only redirects staff to its change page, which then decides.
admin/(?P<url>.*)$                            GET  login  login  login  denied denied login  login
admin/(?P<url>.*)$                            POST login  login  login  denied denied login  login
admin/accounts/user/<path:object_id>/         GET  login  login  login  ok     ok     login  login
admin/accounts/user/<path:object_id>/         POST login  login  login  ok     ok     login  login
admin/accounts/apitoken/<path:object_id>/     GET  login  login  login  ok     ok     login  login
admin/accounts/apitoken/<path:object_id>/     POST login  login  login  ok     ok     login  login
admin/accounts/securityevent/<path:object_id>/ GET  login  login  login  ok     ok     login  login
admin/accounts/securityevent/<path:object_id>/ POST login  login  login  ok     ok     login  login
admin/auth/group/<path:object_id>/            GET  login  login  login  ok     ok     login  login
admin/auth/group/<path:object_id>/            POST login  login  login  ok     ok     login  login
admin/axes/accessattempt/<path:object_id>/    GET  login  login  login  ok     ok     login  login
admin/axes/accessattempt/<path:object_id>/    POST login  login  login  ok     ok     login  login
admin/axes/accessfailurelog/<path:object_id>/ GET  login  login  login  ok     ok     login  login
admin/axes/accessfailurelog/<path:object_id>/ POST login  login  login  ok     ok     login  login
admin/axes/accesslog/<path:object_id>/        GET  login  login  login  ok     ok     login  login
admin/axes/accesslog/<path:object_id>/        POST login  login  login  ok     ok     login  login
admin/complaints/category/<path:object_id>/   GET  login  login  login  ok     ok     login  login
admin/complaints/category/<path:object_id>/   POST login  login  login  ok     ok     login  login
admin/complaints/complaint/<path:object_id>/  GET  login  login  login  ok     ok     login  login
admin/complaints/complaint/<path:object_id>/  POST login  login  login  ok     ok     login  login
admin/complaints/holiday/<path:object_id>/    GET  login  login  login  ok     ok     login  login
admin/complaints/holiday/<path:object_id>/    POST login  login  login  ok     ok     login  login
admin/complaints/businesscalendar/<path:object_id>/ GET login login login ok ok login login
admin/complaints/businesscalendar/<path:object_id>/ POST login login login ok ok login login
admin:complaints_businesscalendar_add         GET  login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_add         POST login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_change      GET  login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_change      POST login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_changelist  GET  login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_changelist  POST login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_delete      GET  login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_delete      POST login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_history     GET  login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_history     POST login  login  login  ok     ok     login  login
admin:complaints_businesscalendar_simple_history GET login login login ok ok login login
admin:complaints_businesscalendar_simple_history POST login login login ok ok login login
admin/complaints/clockdefinition/<path:object_id>/ GET login login login ok ok login login
admin/complaints/clockdefinition/<path:object_id>/ POST login login login ok ok login login
admin:complaints_clockdefinition_add          GET  login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_add          POST login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_change       GET  login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_change       POST login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_changelist   GET  login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_changelist   POST login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_delete       GET  login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_delete       POST login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_history      GET  login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_history      POST login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_simple_history GET  login  login  login  ok     ok     login  login
admin:complaints_clockdefinition_simple_history POST login  login  login  ok     ok     login  login
admin/complaints/regulatoryprofile/<path:object_id>/ GET login login login ok ok login login
admin/complaints/regulatoryprofile/<path:object_id>/ POST login login login ok ok login login
admin:complaints_regulatoryprofile_add        GET  login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_add        POST login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_change     GET  login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_change     POST login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_changelist GET  login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_changelist POST login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_delete     GET  login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_delete     POST login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_history    GET  login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_history    POST login  login  login  ok     ok     login  login
admin:complaints_regulatoryprofile_simple_history GET login login login ok ok login login
admin:complaints_regulatoryprofile_simple_history POST login login login ok ok login login
admin/complaints/complaintclock/<path:object_id>/ GET login login login ok ok login login
admin/complaints/complaintclock/<path:object_id>/ POST login login login ok ok login login
admin:complaints_complaintclock_add           GET  login  login  login  denied denied login  login
admin:complaints_complaintclock_add           POST login  login  login  denied denied login  login
admin:complaints_complaintclock_change        GET  login  login  login  ok     ok     login  login
admin:complaints_complaintclock_change        POST login  login  login  denied denied login  login
admin:complaints_complaintclock_changelist    GET  login  login  login  ok     ok     login  login
admin:complaints_complaintclock_changelist    POST login  login  login  ok     ok     login  login
admin:complaints_complaintclock_delete        GET  login  login  login  denied denied login  login
admin:complaints_complaintclock_delete        POST login  login  login  denied denied login  login
admin:complaints_complaintclock_history       GET  login  login  login  ok     ok     login  login
admin:complaints_complaintclock_history       POST login  login  login  ok     ok     login  login
admin/complaints/product/<path:object_id>/    GET  login  login  login  ok     ok     login  login
admin/complaints/product/<path:object_id>/    POST login  login  login  ok     ok     login  login
admin/complaints/requiredelement/<path:object_id>/ GET login login login ok ok login login
admin/complaints/requiredelement/<path:object_id>/ POST login login login ok ok login login
admin/complaints/responseenclosure/<path:object_id>/ GET login login login ok ok login login
admin/complaints/responseenclosure/<path:object_id>/ POST login login login ok ok login login
admin/complaints/responsetemplate/<path:object_id>/ GET login login login ok ok login login
admin/complaints/responsetemplate/<path:object_id>/ POST login login login ok ok login login
admin/complaints/rootcause/<path:object_id>/  GET  login  login  login  ok     ok     login  login
admin/complaints/returngrouping/<path:object_id>/ GET login login login ok ok login login
admin/complaints/rootcause/<path:object_id>/  POST login  login  login  ok     ok     login  login
admin/complaints/returngrouping/<path:object_id>/ POST login login login ok ok login login
admin:accounts_user_add                       GET  login  login  login  denied ok     login  login
admin:accounts_user_add                       POST login  login  login  denied ok     login  login
admin:accounts_user_change                    GET  login  login  login  denied ok     login  login
admin:accounts_user_change                    POST login  login  login  denied ok     login  login
admin:accounts_user_changelist                GET  login  login  login  denied ok     login  login
admin:accounts_user_changelist                POST login  login  login  denied ok     login  login
admin:accounts_user_delete                    GET  login  login  login  denied ok     login  login
admin:accounts_user_delete                    POST login  login  login  denied ok     login  login
admin:accounts_user_history                   GET  login  login  login  denied ok     login  login
admin:accounts_user_history                   POST login  login  login  denied ok     login  login
# API tokens are the administrator's; managers read the security log, nobody edits it.
admin:accounts_apitoken_add                   GET  login  login  login  denied ok     login  login
admin:accounts_apitoken_add                   POST login  login  login  denied ok     login  login
admin:accounts_apitoken_change                GET  login  login  login  denied ok     login  login
admin:accounts_apitoken_change                POST login  login  login  denied ok     login  login
admin:accounts_apitoken_changelist            GET  login  login  login  denied ok     login  login
admin:accounts_apitoken_changelist            POST login  login  login  denied ok     login  login
admin:accounts_apitoken_delete                GET  login  login  login  denied denied login  login
admin:accounts_apitoken_delete                POST login  login  login  denied denied login  login
admin:accounts_apitoken_history               GET  login  login  login  denied ok     login  login
admin:accounts_apitoken_history               POST login  login  login  denied ok     login  login
admin:accounts_securityevent_add              GET  login  login  login  denied denied login  login
admin:accounts_securityevent_add              POST login  login  login  denied denied login  login
admin:accounts_securityevent_change           GET  login  login  login  ok     ok     login  login
admin:accounts_securityevent_change           POST login  login  login  denied denied login  login
admin:accounts_securityevent_changelist       GET  login  login  login  ok     ok     login  login
admin:accounts_securityevent_changelist       POST login  login  login  ok     ok     login  login
admin:accounts_securityevent_delete           GET  login  login  login  denied denied login  login
admin:accounts_securityevent_delete           POST login  login  login  denied denied login  login
admin:accounts_securityevent_history          GET  login  login  login  ok     ok     login  login
admin:accounts_securityevent_history          POST login  login  login  ok     ok     login  login
admin:app_list                                GET  login  login  login  ok     ok     login  login
admin:app_list                                POST login  login  login  ok     ok     login  login
admin:auth_group_add                          GET  login  login  login  denied ok     login  login
admin:auth_group_add                          POST login  login  login  denied ok     login  login
admin:auth_group_change                       GET  login  login  login  denied ok     login  login
admin:auth_group_change                       POST login  login  login  denied ok     login  login
admin:auth_group_changelist                   GET  login  login  login  denied ok     login  login
admin:auth_group_changelist                   POST login  login  login  denied ok     login  login
admin:auth_group_delete                       GET  login  login  login  denied ok     login  login
admin:auth_group_delete                       POST login  login  login  denied ok     login  login
admin:auth_group_history                      GET  login  login  login  denied ok     login  login
admin:auth_group_history                      POST login  login  login  denied ok     login  login
admin:auth_user_password_change               GET  login  login  login  denied ok     login  login
admin:auth_user_password_change               POST login  login  login  denied ok     login  login
admin:autocomplete                            GET  login  login  login  denied denied login  login
admin:autocomplete                            POST login  login  login  method method login  login
admin:axes_accessattempt_add                  GET  login  login  login  denied denied login  login
admin:axes_accessattempt_add                  POST login  login  login  denied denied login  login
admin:axes_accessattempt_change               GET  login  login  login  denied ok     login  login
admin:axes_accessattempt_change               POST login  login  login  denied ok     login  login
admin:axes_accessattempt_changelist           GET  login  login  login  denied ok     login  login
admin:axes_accessattempt_changelist           POST login  login  login  denied ok     login  login
admin:axes_accessattempt_delete               GET  login  login  login  denied ok     login  login
admin:axes_accessattempt_delete               POST login  login  login  denied ok     login  login
admin:axes_accessattempt_history              GET  login  login  login  denied ok     login  login
admin:axes_accessattempt_history              POST login  login  login  denied ok     login  login
admin:axes_accessfailurelog_add               GET  login  login  login  denied denied login  login
admin:axes_accessfailurelog_add               POST login  login  login  denied denied login  login
admin:axes_accessfailurelog_change            GET  login  login  login  denied ok     login  login
admin:axes_accessfailurelog_change            POST login  login  login  denied ok     login  login
admin:axes_accessfailurelog_changelist        GET  login  login  login  denied ok     login  login
admin:axes_accessfailurelog_changelist        POST login  login  login  denied ok     login  login
admin:axes_accessfailurelog_delete            GET  login  login  login  denied ok     login  login
admin:axes_accessfailurelog_delete            POST login  login  login  denied ok     login  login
admin:axes_accessfailurelog_history           GET  login  login  login  denied ok     login  login
admin:axes_accessfailurelog_history           POST login  login  login  denied ok     login  login
admin:axes_accesslog_add                      GET  login  login  login  denied denied login  login
admin:axes_accesslog_add                      POST login  login  login  denied denied login  login
admin:axes_accesslog_change                   GET  login  login  login  denied ok     login  login
admin:axes_accesslog_change                   POST login  login  login  denied ok     login  login
admin:axes_accesslog_changelist               GET  login  login  login  denied ok     login  login
admin:axes_accesslog_changelist               POST login  login  login  denied ok     login  login
admin:axes_accesslog_delete                   GET  login  login  login  denied ok     login  login
admin:axes_accesslog_delete                   POST login  login  login  denied ok     login  login
admin:axes_accesslog_history                  GET  login  login  login  denied ok     login  login
admin:axes_accesslog_history                  POST login  login  login  denied ok     login  login
admin:complaints_category_add                 GET  login  login  login  ok     ok     login  login
admin:complaints_category_add                 POST login  login  login  ok     ok     login  login
admin:complaints_category_change              GET  login  login  login  ok     ok     login  login
admin:complaints_category_change              POST login  login  login  ok     ok     login  login
admin:complaints_category_changelist          GET  login  login  login  ok     ok     login  login
admin:complaints_category_changelist          POST login  login  login  ok     ok     login  login
admin:complaints_category_delete              GET  login  login  login  ok     ok     login  login
admin:complaints_category_delete              POST login  login  login  ok     ok     login  login
admin:complaints_category_history             GET  login  login  login  ok     ok     login  login
admin:complaints_category_history             POST login  login  login  ok     ok     login  login
admin:complaints_complaint_add                GET  login  login  login  denied denied login  login
admin:complaints_complaint_add                POST login  login  login  denied denied login  login
admin:complaints_complaint_change             GET  login  login  login  denied ok     login  login
admin:complaints_complaint_change             POST login  login  login  denied denied login  login
admin:complaints_complaint_changelist         GET  login  login  login  denied ok     login  login
admin:complaints_complaint_changelist         POST login  login  login  denied ok     login  login
admin:complaints_complaint_delete             GET  login  login  login  denied denied login  login
admin:complaints_complaint_delete             POST login  login  login  denied denied login  login
admin:complaints_complaint_history            GET  login  login  login  denied ok     login  login
admin:complaints_complaint_history            POST login  login  login  denied ok     login  login
# An earlier version of a complaint is there to read: posting it back (a revert) is refused.
admin:complaints_complaint_simple_history     GET  login  login  login  denied ok     login  login
admin:complaints_complaint_simple_history     POST login  login  login  denied denied login  login
admin:complaints_holiday_add                  GET  login  login  login  ok     ok     login  login
admin:complaints_holiday_add                  POST login  login  login  ok     ok     login  login
admin:complaints_holiday_change               GET  login  login  login  ok     ok     login  login
admin:complaints_holiday_change               POST login  login  login  ok     ok     login  login
admin:complaints_holiday_changelist           GET  login  login  login  ok     ok     login  login
admin:complaints_holiday_changelist           POST login  login  login  ok     ok     login  login
admin:complaints_holiday_delete               GET  login  login  login  ok     ok     login  login
admin:complaints_holiday_delete               POST login  login  login  ok     ok     login  login
admin:complaints_holiday_history              GET  login  login  login  ok     ok     login  login
admin:complaints_holiday_history              POST login  login  login  ok     ok     login  login
admin:complaints_product_add                  GET  login  login  login  ok     ok     login  login
admin:complaints_product_add                  POST login  login  login  ok     ok     login  login
admin:complaints_product_change               GET  login  login  login  ok     ok     login  login
admin:complaints_product_change               POST login  login  login  ok     ok     login  login
admin:complaints_product_changelist           GET  login  login  login  ok     ok     login  login
admin:complaints_product_changelist           POST login  login  login  ok     ok     login  login
admin:complaints_product_delete               GET  login  login  login  ok     ok     login  login
admin:complaints_product_delete               POST login  login  login  ok     ok     login  login
admin:complaints_product_history              GET  login  login  login  ok     ok     login  login
admin:complaints_product_history              POST login  login  login  ok     ok     login  login
admin:complaints_requiredelement_add         GET  login  login  login  ok     ok     login  login
admin:complaints_requiredelement_add         POST login  login  login  ok     ok     login  login
admin:complaints_requiredelement_change      GET  login  login  login  ok     ok     login  login
admin:complaints_requiredelement_change      POST login  login  login  ok     ok     login  login
admin:complaints_requiredelement_changelist  GET  login  login  login  ok     ok     login  login
admin:complaints_requiredelement_changelist  POST login  login  login  ok     ok     login  login
admin:complaints_requiredelement_delete      GET  login  login  login  ok     ok     login  login
admin:complaints_requiredelement_delete      POST login  login  login  ok     ok     login  login
admin:complaints_requiredelement_history     GET  login  login  login  ok     ok     login  login
admin:complaints_requiredelement_history     POST login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_add         GET  login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_add         POST login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_change      GET  login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_change      POST login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_changelist  GET  login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_changelist  POST login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_delete      GET  login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_delete      POST login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_history     GET  login  login  login  ok     ok     login  login
admin:complaints_responseenclosure_history     POST login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_add         GET  login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_add         POST login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_approve     GET  login  login  login  method method login  login
admin:complaints_responsetemplate_approve     POST login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_change      GET  login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_change      POST login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_changelist  GET  login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_changelist  POST login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_delete      GET  login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_delete      POST login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_history     GET  login  login  login  ok     ok     login  login
admin:complaints_responsetemplate_history     POST login  login  login  ok     ok     login  login
admin:complaints_rootcause_add                GET  login  login  login  ok     ok     login  login
admin:complaints_returngrouping_add           GET  login  login  login  ok     ok     login  login
admin:complaints_rootcause_add                POST login  login  login  ok     ok     login  login
admin:complaints_returngrouping_add           POST login  login  login  ok     ok     login  login
admin:complaints_rootcause_change             GET  login  login  login  ok     ok     login  login
admin:complaints_returngrouping_change        GET  login  login  login  ok     ok     login  login
admin:complaints_rootcause_change             POST login  login  login  ok     ok     login  login
admin:complaints_returngrouping_change        POST login  login  login  ok     ok     login  login
admin:complaints_rootcause_changelist         GET  login  login  login  ok     ok     login  login
admin:complaints_returngrouping_changelist    GET  login  login  login  ok     ok     login  login
admin:complaints_rootcause_changelist         POST login  login  login  ok     ok     login  login
admin:complaints_returngrouping_changelist    POST login  login  login  ok     ok     login  login
admin:complaints_rootcause_delete             GET  login  login  login  ok     ok     login  login
admin:complaints_returngrouping_delete        GET  login  login  login  ok     ok     login  login
admin:complaints_rootcause_delete             POST login  login  login  ok     ok     login  login
admin:complaints_returngrouping_delete        POST login  login  login  ok     ok     login  login
admin:complaints_rootcause_history            GET  login  login  login  ok     ok     login  login
admin:complaints_returngrouping_history       GET  login  login  login  ok     ok     login  login
admin:complaints_rootcause_history            POST login  login  login  ok     ok     login  login
admin:complaints_returngrouping_history       POST login  login  login  ok     ok     login  login
admin:index                                   GET  login  login  login  ok     ok     login  login
admin:index                                   POST login  login  login  ok     ok     login  login
admin:jsi18n                                  GET  login  login  login  ok     ok     login  login
admin:jsi18n                                  POST login  login  login  method method login  login
admin:login                                   GET  ok     ok     ok     ok     ok     ok     ok
admin:login                                   POST ok     ok     ok     ok     ok     ok     ok
# The admin's sign-out sends anyone not staff to the admin index (which then asks them
# to sign in); staff are signed out and sent to the sign-in page (LOGOUT_REDIRECT_URL).
admin:logout                                  GET  login  ok     ok     method method ok     login
admin:logout                                  POST login  ok     ok     login  login  ok     login
admin:password_change                         GET  login  login  login  ok     ok     login  login
admin:password_change                         POST login  login  login  ok     ok     login  login
admin:password_change_done                    GET  login  login  login  ok     ok     login  login
admin:password_change_done                    POST login  login  login  method method login  login
admin:view_on_site                            GET  login  login  login  denied denied login  login
admin:view_on_site                            POST login  login  login  denied denied login  login
api:acknowledge                               GET  denied method method method method denied denied
api:acknowledge                               POST denied ok     denied ok     ok     denied denied
api:assign                                    GET  denied method method method method denied denied
api:assign                                    POST denied ok     denied ok     ok     denied denied
api:attachments                               GET  denied method method method method denied denied
api:attachments                               POST denied ok     denied ok     ok     denied denied
api:inbound-mailgun                           GET  denied denied denied denied denied denied denied
api:inbound-mailgun                           POST denied denied denied denied denied denied denied
api:complaint                                 GET  denied ok     denied ok     ok     denied denied
api:complaint                                 POST denied method method method method denied denied
api:complaints                                GET  denied ok     ok     ok     ok     denied denied
api:complaints                                POST denied ok     ok     ok     ok     denied denied
api:dashboard                                 GET  denied denied denied ok     ok     denied denied
api:dashboard                                 POST denied denied denied method method denied denied
# The schema and its documentation describe the API to anyone signed in (no data).
api:docs                                      GET  login  ok     ok     ok     ok     ok     login
api:docs                                      POST login  method method method method method login
api:escalate                                  GET  denied method method method method denied denied
api:escalate                                  POST denied ok     denied ok     ok     denied denied
api:merge                                     GET  denied method method method method denied denied
api:merge                                     POST denied ok     denied ok     ok     denied denied
api:notes                                     GET  denied method method method method denied denied
api:notes                                     POST denied ok     denied ok     ok     denied denied
api:messages                                  GET  denied ok     denied ok     ok     denied denied
api:messages                                  POST denied ok     denied ok     ok     denied denied
api:not-a-complaint                           GET  denied method method method method denied denied
api:not-a-complaint                           POST denied ok     denied ok     ok     denied denied
api:report                                    GET  denied denied denied ok     ok     denied denied
api:report                                    POST denied denied denied method method denied denied
api:reports                                   GET  denied denied denied ok     ok     denied denied
api:reports                                   POST denied denied denied method method denied denied
api:outcome                                   GET  denied method method method method denied denied
api:outcome                                   POST denied ok     denied ok     ok     denied denied
api:resolution                                GET  denied method method method method denied denied
api:resolution                                POST denied ok     denied ok     ok     denied denied
api:schema                                    GET  denied ok     ok     ok     ok     ok     denied
api:schema                                    POST denied method method method method method denied
api:transition                                GET  denied method method method method denied denied
api:transition                                POST denied ok     denied ok     ok     denied denied
api:withdraw                                  GET  denied method method method method denied denied
api:withdraw                                  POST denied ok     denied ok     ok     denied denied
complaints:action                             GET  login  method method method method method login
complaints:action                             POST login  ok     denied ok     ok     denied login
complaints:attachment                         GET  login  ok     denied ok     ok     denied login
complaints:attachment                         POST login  ok     denied ok     ok     denied login
complaints:message                            GET  login  ok     denied ok     ok     denied login
complaints:message                            POST login  ok     denied ok     ok     denied login
complaints:letter-posted                      GET  login  method method method method method login
complaints:letter-posted                      POST login  ok     denied ok     ok     denied login
# The resolver is the consultee: they may read and answer the question.
complaints:consultation                       GET  login  ok     ok     ok     ok     denied login
complaints:consultation                       POST login  ok     ok     ok     ok     denied login
complaints:consultation-answer                GET  login  method method method method method login
complaints:consultation-answer                POST login  ok     ok     ok     ok     denied login
complaints:create                             GET  login  ok     ok     ok     ok     denied login
complaints:create                             POST login  ok     ok     ok     ok     denied login
complaints:detail                             GET  login  ok     denied ok     ok     denied login
complaints:detail                             POST login  ok     denied ok     ok     denied login
complaints:edit                               GET  login  ok     denied ok     ok     denied login
complaints:edit                               POST login  ok     denied ok     ok     denied login
complaints:export                             GET  login  ok     ok     ok     ok     denied login
complaints:export                             POST login  ok     ok     ok     ok     denied login
complaints:import                             GET  login  denied denied ok     ok     denied login
complaints:import                             POST login  denied denied ok     ok     denied login
complaints:inbound                            GET  login  ok     denied ok     ok     denied login
complaints:inbound                            POST login  ok     denied ok     ok     denied login
# Emails to sort: the intake team and managers. Attaching with an empty body names no
# complaint, a 404 to everyone (tests/complaints/test_inbound.py attaches for real).
complaints:inbound-attach                     GET  login  method method method method method login
complaints:inbound-attach                     POST login  denied denied denied denied denied login
complaints:inbound-dismiss                    GET  login  method method method method method login
complaints:inbound-dismiss                    POST login  ok     denied ok     ok     denied login
complaints:inbound-message                    GET  login  ok     denied ok     ok     denied login
complaints:inbound-message                    POST login  ok     denied ok     ok     denied login
complaints:jobs                               GET  login  denied denied ok     ok     denied login
complaints:jobs                               POST login  denied denied ok     ok     denied login
complaints:list                               GET  login  ok     ok     ok     ok     denied login
complaints:list                               POST login  ok     ok     ok     ok     denied login
# Only the holder of a valid link gets past it; the others ask with the token "x".
complaints:reply                              GET  login  ok     denied ok     ok     denied login
complaints:reply                              POST login  ok     denied ok     ok     denied login
customer:add                                  GET  method method method method method method method
customer:add                                  POST denied denied denied denied denied denied ok
customer:feedback                             GET  method method method method method method method
customer:feedback                             POST denied denied denied denied denied denied ok
customer:reply                                GET  method method method method method method method
customer:reply                                POST denied denied denied denied denied denied ok
customer:respond                              GET  method method method method method method method
customer:respond                              POST denied denied denied denied denied denied ok
customer:status                               GET  denied denied denied denied denied denied ok
customer:status                               POST denied denied denied denied denied denied ok
# Operations: the probe answers anyone; /metrics answers loopback (the test client) or its token.
health                                        GET  unwell unwell unwell unwell unwell unwell unwell
health                                        POST method method method method method method method
home                                          GET  login  ok     ok     ok     ok     denied login
home                                          POST login  ok     ok     ok     ok     denied login
login                                         GET  ok     ok     ok     ok     ok     ok     ok
login                                         POST ok     ok     ok     ok     ok     ok     ok
# Signing out (POST) ends on the sign-in page: LOGOUT_REDIRECT_URL, not a refusal.
logout                                        GET  login  method method method method method login
logout                                        POST login  login  login  login  login  login  login
metrics                                       GET  ok     ok     ok     ok     ok     ok     ok
metrics                                       POST method method method method method method method
password_change                               GET  login  ok     ok     ok     ok     ok     login
password_change                               POST login  ok     ok     ok     ok     ok     login
password_change_done                          GET  login  ok     ok     ok     ok     ok     login
password_change_done                          POST login  method method method method method login
public-complaint                              GET  ok     ok     ok     ok     ok     ok     ok
public-complaint                              POST ok     ok     ok     ok     ok     ok     ok
public-complaint-thanks                       GET  ok     ok     ok     ok     ok     ok     ok
public-complaint-thanks                       POST ok     ok     ok     ok     ok     ok     ok
reports:action-status                         GET  login  method method method method method login
reports:action-status                         POST login  denied denied ok     ok     denied login
reports:csv                                   GET  login  denied denied ok     ok     denied login
reports:csv                                   POST login  denied denied ok     ok     denied login
reports:detail                                GET  login  denied denied ok     ok     denied login
reports:detail                                POST login  denied denied ok     ok     denied login
reports:list                                  GET  login  denied denied ok     ok     denied login
reports:list                                  POST login  denied denied ok     ok     denied login
reports:rebuild                               GET  login  method method method method method login
reports:rebuild                               POST login  denied denied ok     ok     denied login
reports:return                                GET  login  denied denied ok     ok     denied login
reports:return                                POST login  denied denied ok     ok     denied login
reports:return-csv                            GET  login  denied denied ok     ok     denied login
reports:return-csv                            POST login  denied denied ok     ok     denied login
reports:return-xlsx                           GET  login  denied denied ok     ok     denied login
reports:return-xlsx                           POST login  denied denied ok     ok     denied login
reports:return-produce                        GET  login  method method method method method login
reports:return-produce                        POST login  denied denied ok     ok     denied login
reports:returns                               GET  login  denied denied ok     ok     denied login
reports:returns                               POST login  denied denied ok     ok     denied login
reports:reviews                               GET  login  denied denied ok     ok     denied login
reports:reviews                               POST login  denied denied ok     ok     denied login
# The second factors in the admin (django-otp): the superuser's; the TOTP key and its QR code
# are shown to nobody there (OTP_ADMIN_HIDE_SENSITIVE_DATA).
admin/otp_static/staticdevice/<path:object_id>/ GET  login  login  login  ok     ok     login  login
admin/otp_static/staticdevice/<path:object_id>/ POST login  login  login  ok     ok     login  login
admin/otp_totp/totpdevice/<path:object_id>/   GET  login  login  login  ok     ok     login  login
admin/otp_totp/totpdevice/<path:object_id>/   POST login  login  login  ok     ok     login  login
admin:otp_static_staticdevice_add             GET  login  login  login  denied ok     login  login
admin:otp_static_staticdevice_add             POST login  login  login  denied ok     login  login
admin:otp_static_staticdevice_change          GET  login  login  login  denied ok     login  login
admin:otp_static_staticdevice_change          POST login  login  login  denied ok     login  login
admin:otp_static_staticdevice_changelist      GET  login  login  login  denied ok     login  login
admin:otp_static_staticdevice_changelist      POST login  login  login  denied ok     login  login
admin:otp_static_staticdevice_delete          GET  login  login  login  denied ok     login  login
admin:otp_static_staticdevice_delete          POST login  login  login  denied ok     login  login
admin:otp_static_staticdevice_history         GET  login  login  login  denied ok     login  login
admin:otp_static_staticdevice_history         POST login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_add                 GET  login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_add                 POST login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_change              GET  login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_change              POST login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_changelist          GET  login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_changelist          POST login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_config              GET  login  login  login  denied denied login  login
admin:otp_totp_totpdevice_config              POST login  login  login  denied denied login  login
admin:otp_totp_totpdevice_delete              GET  login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_delete              POST login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_history             GET  login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_history             POST login  login  login  denied ok     login  login
admin:otp_totp_totpdevice_qrcode              GET  login  login  login  denied denied login  login
admin:otp_totp_totpdevice_qrcode              POST login  login  login  denied denied login  login
# Two-step sign-in (accounts/mfa.py): every signed-in user's own; the passkey ceremonies
# (django-otp-webauthn) answer JSON and check the user themselves.
mfa                                           GET  login  ok     ok     ok     ok     ok     login
mfa                                           POST login  method method method method method login
mfa-enrol                                     GET  login  ok     ok     ok     ok     ok     login
mfa-enrol                                     POST login  ok     ok     ok     ok     ok     login
mfa-recovery-codes                            GET  login  ok     ok     ok     ok     ok     login
mfa-recovery-codes                            POST login  ok     ok     ok     ok     ok     login
mfa-verify                                    GET  login  ok     ok     ok     ok     ok     login
mfa-verify                                    POST login  ok     ok     ok     ok     ok     login
otp_webauthn:credential-authentication-begin  GET  login  method method method method method login
otp_webauthn:credential-authentication-begin  POST login  ok     ok     ok     ok     ok     login
otp_webauthn:credential-authentication-complete GET  login  method method method method method login
otp_webauthn:credential-authentication-complete POST login  ok     ok     ok     ok     ok     login
otp_webauthn:credential-registration-begin    GET  login  method method method method method login
otp_webauthn:credential-registration-begin    POST login  ok     ok     ok     ok     ok     login
otp_webauthn:credential-registration-complete GET  login  method method method method method login
otp_webauthn:credential-registration-complete POST login  ok     ok     ok     ok     ok     login
otp_webauthn:js-i18n-catalog                  GET  login  ok     ok     ok     ok     ok     login
otp_webauthn:js-i18n-catalog                  POST login  method method method method method login
# Single sign-on: with no identity provider configured, both send back to the sign-in page.
oidc_authentication_callback                  GET  login  login  login  login  login  login  login
oidc_authentication_callback                  POST method method method method method method method
oidc_authentication_init                      GET  login  login  login  login  login  login  login
oidc_authentication_init                      POST method method method method method method method
# Data protection (docs/data-protection.md): the managers' pages; retention policies are a
# managers' setting; settings keep their history; reviews and actions are read in the admin.
admin/complaints/retentionpolicy/<path:object_id>/ GET login login login ok ok login login
admin/complaints/retentionpolicy/<path:object_id>/ POST login login login ok ok login login
admin/reports/improvementaction/<path:object_id>/ GET login login login ok ok login login
admin/reports/improvementaction/<path:object_id>/ POST login login login ok ok login login
admin/reports/procedurereview/<path:object_id>/ GET  login  login  login  ok     ok     login  login
admin/reports/procedurereview/<path:object_id>/ POST login  login  login  ok     ok     login  login
admin:accounts_user_simple_history            GET  login  login  login  denied ok     login  login
admin:accounts_user_simple_history            POST login  login  login  denied denied login  login
admin:complaints_category_simple_history      GET  login  login  login  ok     ok     login  login
admin:complaints_category_simple_history      POST login  login  login  ok     ok     login  login
admin:complaints_requiredelement_simple_history GET login login login ok ok login login
admin:complaints_requiredelement_simple_history POST login login login ok ok login login
admin:complaints_responseenclosure_simple_history GET login login login ok ok login login
admin:complaints_responseenclosure_simple_history POST login login login ok ok login login
admin:complaints_responsetemplate_simple_history GET login login login ok ok login login
admin:complaints_responsetemplate_simple_history POST login login login ok ok login login
admin:complaints_holiday_simple_history       GET  login  login  login  ok     ok     login  login
admin:complaints_holiday_simple_history       POST login  login  login  ok     ok     login  login
admin:complaints_product_simple_history       GET  login  login  login  ok     ok     login  login
admin:complaints_product_simple_history       POST login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_add          GET  login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_add          POST login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_change       GET  login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_change       POST login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_changelist   GET  login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_changelist   POST login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_delete       GET  login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_delete       POST login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_history      GET  login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_history      POST login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_simple_history GET  login  login  login  ok     ok     login  login
admin:complaints_retentionpolicy_simple_history POST login  login  login  ok     ok     login  login
admin:complaints_rootcause_simple_history     GET  login  login  login  ok     ok     login  login
admin:complaints_returngrouping_simple_history GET  login  login  login  ok     ok     login  login
admin:complaints_rootcause_simple_history     POST login  login  login  ok     ok     login  login
admin:complaints_returngrouping_simple_history POST login  login  login  ok     ok     login  login
admin:reports_improvementaction_add           GET  login  login  login  denied denied login  login
admin:reports_improvementaction_add           POST login  login  login  denied denied login  login
admin:reports_improvementaction_change        GET  login  login  login  ok     ok     login  login
admin:reports_improvementaction_change        POST login  login  login  denied denied login  login
admin:reports_improvementaction_changelist    GET  login  login  login  ok     ok     login  login
admin:reports_improvementaction_changelist    POST login  login  login  ok     ok     login  login
admin:reports_improvementaction_delete        GET  login  login  login  denied denied login  login
admin:reports_improvementaction_delete        POST login  login  login  denied denied login  login
admin:reports_improvementaction_history       GET  login  login  login  ok     ok     login  login
admin:reports_improvementaction_history       POST login  login  login  ok     ok     login  login
admin:reports_improvementaction_simple_history GET  login  login  login  ok     ok     login  login
admin:reports_improvementaction_simple_history POST login  login  login  denied denied login  login
admin:reports_procedurereview_add             GET  login  login  login  denied denied login  login
admin:reports_procedurereview_add             POST login  login  login  denied denied login  login
admin:reports_procedurereview_change          GET  login  login  login  ok     ok     login  login
admin:reports_procedurereview_change          POST login  login  login  denied denied login  login
admin:reports_procedurereview_changelist      GET  login  login  login  ok     ok     login  login
admin:reports_procedurereview_changelist      POST login  login  login  ok     ok     login  login
admin:reports_procedurereview_delete          GET  login  login  login  denied denied login  login
admin:reports_procedurereview_delete          POST login  login  login  denied denied login  login
admin:reports_procedurereview_history         GET  login  login  login  ok     ok     login  login
admin:reports_procedurereview_history         POST login  login  login  ok     ok     login  login
admin:reports_procedurereview_simple_history  GET  login  login  login  ok     ok     login  login
admin:reports_procedurereview_simple_history  POST login  login  login  denied denied login  login
complaints:privacy                            GET  login  denied denied ok     ok     denied login
complaints:privacy                            POST login  denied denied method method denied login
complaints:privacy-erasure                    GET  login  denied denied method method denied login
complaints:privacy-erasure                    POST login  denied denied ok     ok     denied login
complaints:privacy-erasure-decide             GET  login  denied denied method method denied login
complaints:privacy-erasure-decide             POST login  denied denied ok     ok     denied login
complaints:privacy-export                     GET  login  denied denied method method denied login
complaints:privacy-export                     POST login  denied denied ok     ok     denied login
complaints:privacy-hold                       GET  login  denied denied method method denied login
complaints:privacy-hold                       POST login  denied denied ok     ok     denied login
complaints:privacy-record                     GET  login  denied denied ok     ok     denied login
complaints:privacy-record                     POST login  denied denied ok     ok     denied login
"""


def parse_table(text):
    table = {}
    for line in text.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, method, *outcomes = line.split()
        assert method in METHODS and len(outcomes) == len(ROLES), line
        assert set(outcomes) <= OUTCOMES, line
        table.setdefault(name, {})[method] = dict(zip(ROLES, outcomes, strict=True))
    return table


EXPECTED = parse_table(EXPECTED_TABLE)

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield prefix + str(entry.pattern), name


def patterns():
    """(key, route) for every URL pattern: the key is its name, or its route if unnamed."""
    seen = {}
    for route, name in walk(get_resolver().url_patterns):
        seen.setdefault(name or route, route)
    return sorted(seen.items())


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Rate limits and throttles count in a cache of this test's own, not the shared Redis."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "access-matrix",
        }
    }
    settings.PUBLIC_FORM_RATE_LIMIT = 10_000
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/min"},
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _quiet_logs():
    """Thousands of 403s, 404s and sign-ins would bury the summary line under log records."""
    loggers = [logging.getLogger(name) for name in ("django.request", "axes")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


class World:
    """Every object the URLs need, made once through the application's services."""

    def __init__(self, csr, csr2, resolver, manager, administrator, outsider):
        self.users = {
            "csr": csr,
            "resolver": resolver,
            "manager": manager,
            "administrator": administrator,
            "outsider": outsider,
        }
        self.csr2 = csr2
        self.complaint = factories.complaint(csr, customer_name="Matrix Visible-Customer")
        assert self.complaint.assignee_id is None and self.complaint.logged_by_id == csr.pk
        self.attachment = services.attachment_add(
            self.complaint,
            actor=csr,
            upload=SimpleUploadedFile("statement.pdf", PDF, content_type="application/pdf"),
        )
        self.message = self.complaint.messages.get()
        investigating = factories.complaint_at_stage(
            "investigating", csr=csr, resolver=resolver, manager=manager
        )
        self.consultation = services.consultation_request(
            investigating,
            actor=manager,
            department="Card operations",
            question="Was the second charge reversed?",
            consultee=resolver,
        )
        today = timezone.localdate()
        self.report = report_build("monthly", (today.replace(day=1) - timedelta(days=40)))
        self.return_run = return_produce(
            RegulatoryProfile.objects.get(code="house"),
            today - timedelta(days=30),
            today - timedelta(days=1),
            actor=manager,
        )
        review = ProcedureReview.objects.create(
            held_on=today,
            participants="Manager",
            findings="Acknowledgments are on time.",
            recorded_by=manager,
        )
        self.improvement = ImprovementAction.objects.create(
            review=review,
            description="Shorten the intake form.",
            owner=manager,
            due_date=today + timedelta(days=30),
        )
        self.tokens = {
            role: api_token_create(user=user, name="Matrix", scope=ApiTokenScope.WRITE)[1]
            for role, user in self.users.items()
        }
        self.link_token = links.customer_link(self.complaint).rstrip("/").rsplit("/", 1)[1]
        self.erasure = ErasureRequest.objects.create(
            subject="x@example.com",
            reason="Asked",
            requested_by=manager,
            requested_at=timezone.now(),
        )
        self.admin_objects = self._admin_objects(csr)
        # An email from a stranger naming nobody's complaint: it waits for staff to sort it.
        self.inbound = services.inbound_receive(
            sample("outlook_html_only", sender="stranger@example.org", reference="CMP-2031-000001"),
            mailbox="matrix",
        )
        self.sessions = {}
        for role, user in self.users.items():
            client = Client()
            client.force_login(user)
            self.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value

    def _admin_objects(self, csr):
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        common = {"user_agent": "pytest", "ip_address": "127.0.0.1", "username": "x"}
        common |= {"http_accept": "*/*", "path_info": "/accounts/login/"}
        AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=1)
        AccessLog.objects.create(**common)
        AccessFailureLog.objects.create(**common)
        Group.objects.create(name="Matrix group")
        Holiday.objects.create(date=date(2031, 12, 25), name="Christmas Day")
        RetentionPolicy.objects.create(
            name="Closed cases", minimum_days=1096, anonymise_after_days=2192, source="DISP 1.9"
        )
        ResponseTemplate.objects.create(name="Matrix template", subject="Hello", body="Text")
        ReturnGrouping.objects.create(
            scheme="fca", dimension="cause", root_cause=factories.root_cause(), code="x", label="X"
        )
        # Second factors for the admin's device pages (django-otp), on a user who is no role
        # of the matrix, so that no session here is asked for its second step.
        TOTPDevice.objects.create(user=self.csr2, name="Authenticator app")
        mfa.recovery_codes_issue(self.csr2)
        # The clock catalogue a migration seeded has no history rows: objects of its own.
        calendar = BusinessCalendar.objects.create(code="matrix", name="Matrix calendar")
        profile = RegulatoryProfile.objects.create(
            code="matrix", name="Matrix profile", calendar=calendar, active=False
        )
        definition = ClockDefinition.objects.create(
            profile=profile, code="matrix", name="Matrix clock", amount=1, unit="hours"
        )
        element = RequiredElement.objects.create(
            profile=profile,
            response_type="final_response",
            code="matrix",
            label="the matrix",
            source="Rule 1",
            kind="text",
            patterns="matrix",
        )
        enclosure = ResponseEnclosure.objects.create(
            profile=profile,
            code="matrix",
            name="Matrix leaflet",
            original_name="matrix.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            uploaded_at=timezone.now(),
        )
        objects = {
            (model._meta.app_label, model._meta.model_name): model._default_manager.first()
            for model in apps.get_models()
        }
        for row in (calendar, profile, definition, element, enclosure):
            objects[("complaints", row._meta.model_name)] = row
        objects[("accounts", "user")] = self.csr2
        objects[("complaints", "complaint")] = self.complaint
        return {key: obj.pk for key, obj in objects.items() if obj is not None}

    def url(self, key, route, role):
        """A concrete URL for this pattern, with real objects in place of its arguments."""
        pk = {
            "complaints:consultation": self.consultation.pk,
            "complaints:consultation-answer": self.consultation.pk,
            "complaints:attachment": self.attachment.pk,
            "complaints:message": self.message.pk,
            "complaints:letter-posted": self.message.pk,
            "complaints:inbound-message": self.inbound.pk,
            "complaints:inbound-attach": self.inbound.pk,
            "complaints:inbound-dismiss": self.inbound.pk,
            "reports:detail": self.report.pk,
            "reports:csv": self.report.pk,
            "reports:return": self.return_run.pk,
            "reports:return-csv": self.return_run.pk,
            "reports:return-xlsx": self.return_run.pk,
            "reports:action-status": self.improvement.pk,
            "api:report": self.report.pk,
            "complaints:privacy-erasure-decide": self.erasure.pk,
        }.get(key, self.complaint.pk)
        if key.startswith("admin:") or route.startswith("admin/"):
            return self._admin_url(key, route)
        token = self.link_token if role == "link" else "x"
        values = {
            "<int:pk>": str(pk),
            "<slug:action>": "place" if key == "complaints:privacy-hold" else "note",
            "<slug:decision>": "refuse",
            "<slug:table>": "by-category",
            "<str:token>": token,
        }
        for converter, value in values.items():
            route = route.replace(converter, value)
        assert "<" not in route, route
        return "/" + route

    def _admin_url(self, key, route):
        parts = route.split("/")
        if key.endswith("_simple_history"):
            pk = self.admin_objects[(parts[1], parts[2])]
            model = apps.get_model(parts[1], parts[2])
            history = model.history.filter(**{model._meta.pk.attname: pk}).first()
            return reverse(key, args=[pk, history.history_id])
        if key == "admin:app_list":
            return reverse(key, kwargs={"app_label": "complaints"})
        if key == "admin:view_on_site":
            content_type = ContentType.objects.get_for_model(Complaint)
            return reverse(key, args=[content_type.pk, self.complaint.pk])
        if route == "admin/(?P<url>.*)$":
            return "/admin/nowhere/"
        if "<path:object_id>" in route or "<id>" in route or "<int:pk>" in route:
            pk = str(self.admin_objects[(parts[1], parts[2])])
            for converter in ("<path:object_id>", "<id>", "<int:pk>"):
                route = route.replace(converter, pk)
        assert "<" not in route and "(" not in route, route
        return "/" + route


@pytest.fixture
def world(db, csr, csr2, resolver, manager, administrator, outsider):
    return World(csr, csr2, resolver, manager, administrator, outsider)


LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


def outcome(response):
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = urlparse(response.headers["Location"]).path
        return "login" if location in LOGIN_PATHS else "ok"
    if 200 <= status < 300 or status == 400:
        return "ok"
    if status in (401, 403, 404):
        return "denied"
    if status == 405:
        return "method"
    if status == 503 and response.headers.get("Content-Type") == "application/json":
        return "unwell"
    return f"status {status}"


def client_for(world, role, api=False):
    """A fresh client; a signed-in role reuses its session, which a savepoint protects."""
    client = Client(raise_request_exception=False)
    session = world.sessions.get(role)
    if session is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
        if api:
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {world.tokens[role]}"
    return client


def ask(client, method, url, key):
    if method == "GET":
        return client.get(url)
    if key.startswith("api:") and key != "api:attachments":
        # The JSON API parses JSON only: an empty object, not an empty multipart body.
        return client.post(url, content_type="application/json")
    return client.post(url)


def test_access_matrix(world):
    found = patterns()
    missing = [key for key, _ in found if key not in EXPECTED]
    stale = sorted(set(EXPECTED) - {key for key, _ in found})
    mismatches, observed, cells = [], {}, 0
    for key, route in found:
        for role in ROLES:
            url = world.url(key, route, role)
            for method in METHODS:
                with transaction.atomic():
                    client = client_for(world, role, api=key.startswith("api:"))
                    got = outcome(ask(client, method, url, key))
                    transaction.set_rollback(True)
                observed.setdefault(key, {}).setdefault(method, {})[role] = got
                want = EXPECTED.get(key, {}).get(method, {}).get(role)
                if want is None:
                    continue
                cells += 1
                if got != want:
                    mismatches.append(f"{method} {url} ({key}) as {role}: {got}, expected {want}")
    if dump := os.environ.get("ACCESS_MATRIX_DUMP"):
        with open(dump, "w") as out:
            for key, _ in found:
                for method in METHODS:
                    row = " ".join(f"{observed[key][method][role]:<8}" for role in ROLES)
                    out.write(f"{key:<52} {method:<4} {row}\n")
    print(
        f"\naccess matrix: {len(found)} URL patterns x {len(ROLES)} roles x {len(METHODS)} "
        f"methods: {cells} cells asserted, {len(missing)} missing, {len(mismatches)} mismatches"
    )
    problems = [f"not in EXPECTED_TABLE: {key}" for key in missing]
    problems += [f"in EXPECTED_TABLE but no such URL pattern: {key}" for key in stale]
    problems += mismatches
    assert not problems, f"{len(problems)} access matrix problems:\n" + "\n".join(problems)


# --- Object probes --------------------------------------------------------------------------

WEB_PROBES = [
    ("GET", "/complaints/{pk}/"),
    ("POST", "/complaints/{pk}/"),
    ("GET", "/complaints/{pk}/edit/"),
    ("POST", "/complaints/{pk}/edit/"),
    *[
        ("POST", f"/complaints/{{pk}}/{action}/")
        for action in ("note", "take", "assign", "escalate", "transition", "attach", "review")
    ],
]
API_PROBES = [
    ("GET", "/api/v1/complaints/{pk}/"),
    ("POST", "/api/v1/complaints/{pk}/notes/"),
    ("POST", "/api/v1/complaints/{pk}/assign/"),
]


@pytest.fixture
def hidden(csr2):
    """Three complaints in a row that only csr2 (and managers) may see, each with a document."""
    made = []
    for n in range(3):
        complaint = factories.complaint(csr2, customer_name=f"Hidden Customer-{n}")
        services.complaint_assign(complaint, actor=csr2, assignee=csr2)
        services.attachment_add(
            complaint,
            actor=csr2,
            upload=SimpleUploadedFile(f"hidden-{n}.pdf", PDF, content_type="application/pdf"),
        )
        made.append(complaint)
    return made


def snapshot(complaints):
    return [
        (c.assignee_id, c.stage, c.escalation_level, c.notes.count(), c.attachments.count())
        for c in Complaint.objects.filter(pk__in=[c.pk for c in complaints]).order_by("pk")
    ]


def test_object_probes(world, hidden):
    """Another user's complaint by id, id+1 and id-1, and tampered customer links: 404 (401 or
    403 for the API without a token or a role), never its reference or customer name."""
    secrets = [c.reference for c in hidden] + [c.customer_name for c in hidden]
    secrets += [world.complaint.reference, world.complaint.customer_name]
    before = snapshot(hidden)
    middle = hidden[1]
    attachments = [c.attachments.get() for c in hidden]
    failures, probes = [], 0

    def probe(role, method, url, allowed, api=False):
        nonlocal probes
        probes += 1
        client = client_for(world, role, api=api)
        if method == "GET":
            response = client.get(url)
        elif api:
            response = client.post(url, content_type="application/json")
        else:
            response = client.post(url)
        body = b"".join(response) if response.streaming else response.content
        leaked = [secret for secret in secrets if secret.encode() in body]
        if response.status_code not in allowed or leaked:
            failures.append(
                f"{method} {url} as {role}: {response.status_code} (expected {allowed})"
                + (f", body shows {leaked}" if leaked else "")
            )

    for role in ("csr", "resolver", "outsider"):
        user = world.users[role]
        for pk in (middle.pk, middle.pk + 1, middle.pk - 1):
            target = Complaint.objects.filter(pk=pk).first()
            assert target is None or not can_see(user, target), (role, pk)
            for method, url in WEB_PROBES:
                probe(role, method, url.format(pk=pk), {404})
            for method, url in API_PROBES:
                # A signed-in user with no role is refused at the door (403), for every id.
                probe(role, method, url.format(pk=pk), {403} if role == "outsider" else {404}, True)
        for pk in (attachments[1].pk, attachments[1].pk + 1, attachments[1].pk - 1):
            probe(role, "GET", f"/complaints/attachments/{pk}/", {404})
    for method, url in API_PROBES:
        probe("anonymous", method, url.format(pk=middle.pk), {401}, True)

    token = world.link_token
    value = token.split(":", 1)[0]
    salt = links.CUSTOMER_LINK_SALT
    tampered = {
        "signature altered": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "token altered": ("A" if value[0] != "A" else "B") + token[1:],
        "unsigned token": value,
        "another salt": signing.TimestampSigner(salt="another").sign(value),
        "another key": signing.TimestampSigner(key="not-our-secret-key", salt=salt).sign(value),
        "unknown token": signing.TimestampSigner(salt=salt).sign("no-such-token"),
        "empty token": signing.TimestampSigner(salt=salt).sign(""),
    }
    for link in tampered.values():
        for method, suffix in (
            ("GET", ""),
            ("POST", ""),
            *[("POST", f"{a}/") for a in ("add", "respond", "feedback")],
        ):
            probe("link", method, f"/c/{link}/{suffix}", {404})

    # The control: to someone who may see it, the same page does show what the probes look for.
    manager = client_for(world, "manager")
    shown = manager.get(f"/complaints/{middle.pk}/").content
    assert middle.reference.encode() in shown and middle.customer_name.encode() in shown
    shown = Client().get(f"/c/{token}/").content
    assert world.complaint.reference.encode() in shown

    assert snapshot(hidden) == before, "a probe changed a complaint it could not see"
    print(f"\nobject probes: {probes} probes, {len(failures)} failures")
    assert not failures, f"{len(failures)} object probe failures:\n" + "\n".join(failures)


@pytest.mark.django_db
def test_a_closed_complaint_nobody_owns_is_not_in_the_csrs_intake(
    csr, csr2, resolver, manager, client
):
    """The intake queue is open work: a closed, unassigned case (an imported history, say) is
    neither listed, exported, searched nor opened by a CSR who did not log it."""
    closed = factories.complaint_at_stage("reviewed", csr=csr2, resolver=resolver, manager=manager)
    Complaint.objects.filter(pk=closed.pk).update(assignee=None)
    closed.refresh_from_db()
    fresh = factories.complaint(csr2)
    Complaint.objects.filter(pk=fresh.pk).update(assignee=None)

    visible = set(visible_complaints(csr).values_list("pk", flat=True))

    assert fresh.pk in visible and closed.pk not in visible
    assert not can_see(csr, closed) and can_see(csr2, closed)
    client.force_login(csr)
    assert client.get(reverse("complaints:detail", args=[closed.pk])).status_code == 404
    export = b"".join(
        client.get(reverse("complaints:export") + "?stage=all").streaming_content
    ).decode()
    assert closed.reference not in export and fresh.reference in export
    listed = client.get(reverse("complaints:list") + f"?stage=all&q={closed.reference}")
    # The query is echoed in the search box; the row would link to the complaint.
    assert reverse("complaints:detail", args=[closed.pk]) not in listed.content.decode()
