"""Dashboard messages in Simplified Chinese and English, and which language a request gets.

A plain dict per language: a page's template asks ``t("key", n=3)``; a key missing in one
language falls back to English, then to the key itself, so a gap shows and does not break.
The choice sticks in the ``qz_lang`` cookie; without it the operator's own setting, then
``settings.language``, decide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LANGUAGES: dict[str, str] = {"zh-CN": "简体中文", "en": "English"}

CATALOG: dict[str, dict[str, str]] = {
    "en": {
        "app.name": "qunzhu",
        "app.tagline": "Community operations for chat groups",
        "nav.home": "Communities",
        "nav.api": "API",
        "nav.logout": "Log out",
        "nav.signed_in_as": "Signed in as {username}",
        "lang.label": "Language",
        "lang.switch": "Switch",
        "login.title": "Log in",
        "login.username": "Username",
        "login.password": "Password",
        "login.submit": "Log in",
        "login.failed": "Wrong username or password.",
        "login.rate_limited": "Too many failed attempts. Try again in {minutes} minutes.",
        "login.first_run": "First time? The password for 'admin' was printed once by "
                           "`qunzhu serve`; or make an operator with `qunzhu operator create`.",
        "index.title": "Your communities",
        "index.empty": "You have no role in any community yet. Ask a community owner to "
                       "grant you one.",
        "index.empty_superuser": "There is no community yet. Create one with "
                                 "`qunzhu community create NAME --spec community.yaml`.",
        "index.no_groups": "No groups yet: they appear when the first events arrive.",
        "index.more_groups": "and {n} more groups",
        "index.summary": "{groups} groups · {members} members · {messages} messages in 7 days",
        "col.group": "Group",
        "col.platform": "Platform",
        "col.members": "Members",
        "col.messages_7d": "Messages (7 days)",
        "col.messages_total": "Messages (all)",
        "role.owner": "Owner",
        "role.admin": "Admin",
        "role.moderator": "Moderator",
        "role.analyst": "Analyst",
        "role.superuser": "Superuser",
        "error.title": "Error {status}",
        "error.not_found": "Not found.",
        "error.forbidden": "Your role does not allow this.",
        "error.csrf_failed": "This form has expired or did not come from this site. "
                             "Reload the page and try again.",
        "error.rate_limited": "Too many attempts. Wait a little and try again.",
        "error.internal_error": "Something went wrong on our side. The server log has the "
                                "details.",
        "error.back": "Back to the start page",
        "api.title": "API reference",
        "api.intro": "JSON over HTTP. Send an API token as `Authorization: Bearer qz_…`. "
                     "Machine-readable schema: ",
    },
    "zh-CN": {
        "app.name": "群主",
        "app.tagline": "聊天群的社群运营系统",
        "nav.home": "社群",
        "nav.api": "API",
        "nav.logout": "退出登录",
        "nav.signed_in_as": "当前用户：{username}",
        "lang.label": "语言",
        "lang.switch": "切换",
        "login.title": "登录",
        "login.username": "用户名",
        "login.password": "密码",
        "login.submit": "登录",
        "login.failed": "用户名或密码错误。",
        "login.rate_limited": "失败次数过多，请 {minutes} 分钟后再试。",
        "login.first_run": "首次使用？admin 的密码已由 `qunzhu serve` 显示过一次；"
                           "也可以用 `qunzhu operator create` 创建运营者。",
        "index.title": "我的社群",
        "index.empty": "你还没有任何社群的角色，请联系社群的所有者为你授权。",
        "index.empty_superuser": "还没有社群。用 `qunzhu community create 名称 --spec "
                                 "community.yaml` 创建一个。",
        "index.no_groups": "还没有群：收到第一批事件后会显示在这里。",
        "index.more_groups": "还有 {n} 个群",
        "index.summary": "{groups} 个群 · {members} 名成员 · 近 7 天 {messages} 条消息",
        "col.group": "群",
        "col.platform": "平台",
        "col.members": "成员",
        "col.messages_7d": "消息（近 7 天）",
        "col.messages_total": "消息（全部）",
        "role.owner": "所有者",
        "role.admin": "管理员",
        "role.moderator": "版主",
        "role.analyst": "分析员",
        "role.superuser": "超级管理员",
        "error.title": "错误 {status}",
        "error.not_found": "页面不存在。",
        "error.forbidden": "你的角色不允许此操作。",
        "error.csrf_failed": "表单已过期或不是来自本站。请刷新页面后重试。",
        "error.rate_limited": "尝试次数过多，请稍后再试。",
        "error.internal_error": "服务器出错了，详情见服务器日志。",
        "error.back": "返回首页",
        "api.title": "API 参考",
        "api.intro": "基于 HTTP 的 JSON 接口。请求头携带 API 令牌："
                     "`Authorization: Bearer qz_…`。机器可读的接口描述：",
    },
}

Translator = Callable[..., str]


def translator(language: str) -> Translator:
    table = CATALOG.get(language, CATALOG["en"])
    fallback = CATALOG["en"]

    def t(key: str, **values: Any) -> str:
        text = table.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text

    return t


def choose_language(cookie: str | None, operator_language: str | None, default: str) -> str:
    for candidate in (cookie, operator_language, default):
        if candidate in LANGUAGES:
            return candidate
    return "zh-CN"
