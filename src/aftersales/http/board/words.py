"""The board's words in English and Chinese: ``?lang=en|zh``, else the staff member's own
language (their record's ``language``), else their browser's (``Accept-Language``)."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "After-sales board", "login": "Sign in", "token": "Your API token",
        "logout": "Sign out", "manager": "Manager", "intake": "Intake", "mine": "My cases",
        "open_cases": "Open cases by SLA risk", "breached": "breached", "at_risk": "at risk",
        "running": "running", "next_deadline": "Next deadline", "holder": "Who has it",
        "case": "Case", "customer": "Customer", "fault": "Fault", "status": "Status",
        "load": "Engineer load", "engineer": "Engineer", "open": "Open",
        "today": "Appointments today", "week": "This week", "appointment": "Appointment",
        "chart": "The last 30 days: breaches and met rate", "met_rate": "met rate",
        "report": "Report a fault", "serial": "Machine serial", "model": "Model",
        "severity": "Severity", "channel": "Channel", "contact": "Contact",
        "machine_down": "Machine down", "save": "Save", "queue": "To assign",
        "assign": "Assign", "confirm": "Confirm", "contact_customer": "Call the customer",
        "arrive": "Arrived", "checklist": "Safety gear checked", "diagnose": "Diagnose",
        "cause": "Cause", "complexity": "Complexity", "complete": "Repair done",
        "actions": "Work done", "result": "Test run", "parts": "Parts (SKU:qty, ...)",
        "accept": "Customer accepts", "signed_by": "Customer's name",
        "signature": "Signature", "clear": "Clear", "nothing": "Nothing here.",
        "done": "Done", "error": "Not done",
    },
    "zh": {
        "title": "售后看板", "login": "登录", "token": "您的 API 令牌", "logout": "退出",
        "manager": "经理", "intake": "受理", "mine": "我的报修单",
        "open_cases": "按 SLA 风险排列的未结报修单", "breached": "已超时",
        "at_risk": "即将超时", "running": "进行中", "next_deadline": "下一个时限",
        "holder": "负责人", "case": "报修单", "customer": "客户", "fault": "故障",
        "status": "状态", "load": "工程师负荷", "engineer": "工程师", "open": "未结",
        "today": "今日预约", "week": "本周", "appointment": "预约",
        "chart": "近 30 天：超时数与达标率", "met_rate": "达标率", "report": "报修登记",
        "serial": "设备序列号", "model": "型号", "severity": "严重程度", "channel": "渠道",
        "contact": "联系人", "machine_down": "设备停机", "save": "保存", "queue": "待派工",
        "assign": "派工", "confirm": "确认", "contact_customer": "致电客户",
        "arrive": "到达现场", "checklist": "安全装备已检查", "diagnose": "诊断",
        "cause": "原因", "complexity": "复杂度", "complete": "维修完成",
        "actions": "维修内容", "result": "试机结果", "parts": "备件 (SKU:数量, ...)",
        "accept": "客户验收", "signed_by": "客户姓名", "signature": "签名", "clear": "清除",
        "nothing": "暂无。", "done": "已完成", "error": "未完成",
    },
}  # fmt: skip


def language(accept: str | None, asked: str | None, own: str | None = None) -> str:
    """``asked`` (``?lang=``) if it is one of the board's, else the staff member's own
    language (``zh-CN`` -> ``zh``), else the first of the browser's ``Accept-Language`` the
    board has, else English."""
    if asked in WORDS:
        return asked
    base = (own or "").lower()[:2]
    if base in WORDS:
        return base
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in WORDS:
            return tag
    return "en"


__all__ = ["WORDS", "language"]
