"""Policy-subsidy portal (政策兑现平台): rule, form, workflow and document engines plus the web portal."""

__version__ = "1.0.0"
