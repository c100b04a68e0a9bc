"""The sample community's ``community.yaml``: what ``qunzhu demo`` stores as the demo spec.

It describes the community that demo/generate.py plays out: three groups (the open main
group on WeChat, the paid members' group, the English group on Telegram), the application
form whose answers records.py writes, the annual and quarterly plans that payments name,
the daily check-in and the rules the group notice announces. tests/demo holds it to
loading and linting without errors.
"""

from __future__ import annotations

DEMO_SPEC = """\
# AI 编程训练营 —— 示例社群 / the sample community of `qunzhu demo`
version: 1
name: AI 编程训练营 / AI coding bootcamp
purpose: >-
  帮开发者和想转行的人把 AI 编程用进工作：每日打卡、答疑、每月一次实战直播。
  Help developers and career changers put AI coding to work: daily check-ins, Q&A and a
  monthly live build session.

member_value:
  - 群里有问必答，工作日 2 小时内有人回复 / questions answered within 2 hours on workdays
  - 每月一次 RAG / agent 实战直播和回放 / a monthly live build session with replay
  - 每日打卡与连续打卡奖励 / daily check-ins with streak rewards
  - 进阶会员群：项目代码点评、内推机会 / members' group with code review and job referrals

platforms: [wechat, telegram]

persona:
  age_band: 20-40
  gender: mostly_male
  regions: [北京, 上海, 深圳, 杭州, 成都, 新加坡, 海外]
  occupations: [后端, 前端, 全栈, 算法, 产品, 学生]
  needs: [用 AI 写代码提效, 做出 RAG 或 agent 项目, 转 AI 应用开发, 找 AI 方向工作]

lifecycle:
  kind: long_term

monetization:
  model: membership_fee
  plans:
    - id: annual
      name: 进阶会员·年卡 Annual membership
      kind: membership
      price_cents: 69900
      currency: CNY
      period_days: 365
      tier: member
      on_expiry: downgrade_to:friend
    - id: quarterly
      name: 进阶会员·季卡 Quarterly membership
      kind: membership
      price_cents: 19900
      currency: CNY
      period_days: 90
      tier: member
      on_expiry: downgrade_to:friend

type: knowledge

culture:
  slogan: 一起用 AI 写出能上线的代码 / Ship real code with AI, together
  advocate: [提问带报错和代码, 解决后回来说一声, 分享踩过的坑]
  oppose: [广告和二维码, 私加好友推销, 伸手党]

# 主群扫码即进；进阶会员群先填申请表，再付费，由小助手拉进群。
# The main group is open by QR code; the members' group takes the form below, then a plan.
threshold:
  kind: application
  review: manual
  plans: [annual, quarterly]
  questions:
    - {id: 称呼, text_zh: 怎么称呼你？, text_en: What should we call you?}
    - {id: 城市, text_zh: 你在哪个城市？, text_en: Which city are you in?, required: false}
    - {id: 职业, text_zh: 你的职业是？, text_en: What do you do?}
    - id: AI编程经验
      text_zh: 你的 AI 编程经验？
      text_en: How much AI coding have you done?
      choices: [零基础, 会一点 Python, 做过 RAG demo, 工作中在用 AI 写代码, 做过 agent 项目]
    - id: 从哪里知道我们
      text_zh: 从哪里知道我们？
      text_en: Where did you hear of us?
      required: false
      choices: [朋友推荐, 公众号, B站, 小红书, 主群, 直播间]
    - {id: 希望收获, text_zh: 希望在这里收获什么？, text_en: What do you hope to get here?}
  deny_words: [代理, 刷单, 兼职日结, 引流]

size:
  cap: 300
  policy: new_group
  protected: [owner, admin, mentor, kol]

# 群公告：禁止广告、二维码、拉人和私加好友推销；违规一次警告，两次禁言，三次移出。
rules:
  ads:                  {action: delete_warn, severity: 4}
  links:                {allowed: true, newcomer_block_days: 3, severity: 2}
  qr_codes:             {action: delete_warn, severity: 4}
  # 名片可能是替朋友牵线，也可能是推销：先交给人看 / a card may be a favour or a pitch
  contact_cards:        {action: flag, severity: 3}
  contact_solicitation: {action: delete_warn, severity: 4}
  group_invites:        {action: delete_warn, severity: 4}
  banned_words:         {words: [稳赚不赔, 加我私聊, 日入过千], action: delete_warn, severity: 3}
  flooding:             {max_messages: 6, per_seconds: 30, action: mute, severity: 2}
  duplicate_across_groups: {max_groups: 2, per_seconds: 600, action: delete_warn, severity: 4}
  mass_mentions:        {max_mentions: 5, action: delete_warn, severity: 2}
  who_may_invite:       members
  classifier:           {threshold_flag: 0.6, threshold_act: 0.9, action: delete_warn, severity: 4}

escalation:
  points_expire_days: 60
  ladder:
    - {points: 1,  action: warn}
    - {points: 5,  action: mute, duration_minutes: 1440}
    - {points: 9,  action: remove}
    - {points: 16, action: blacklist}
  tier_slack: {core: 0.5}
  protected: [owner, admin, mentor]

messages:
  warn:
    zh-CN: "{member} 请注意群规：{rule}。再次违反将被禁言。"
    en: "{member}, please mind the group rules: {rule}. Doing it again gets you muted."
  mute:
    zh-CN: "{member} 因{rule}被禁言 {duration}。"
    en: "{member} is muted for {duration} ({rule})."
  remove:
    zh-CN: "{member} 多次违反群规（{rule}），已被移出本群。"
    en: "{member} has been removed after repeated breaches ({rule})."
  welcome:
    zh-CN: "欢迎 {member} 加入{group}！群昵称请改为「姓名-城市-职业」，提问请带上报错和代码～"
    en: "Welcome to {group}, {member}! Please read the pinned rules and introduce yourself."

tiers:
  - {id: friend, name_zh: 群友, name_en: Friend, perks: [主群答疑, 直播预告]}
  - id: member
    name_zh: 进阶会员
    name_en: Member
    perks: [进阶会员群, 直播回放, 项目代码点评]
    promote: {plan: annual}
  - id: core
    name_zh: 核心学员
    name_en: Core member
    perks: [直播优先提问, 内推机会]
    promote: {min_value: 40, min_days_active: 20, min_tenure_days: 30, max_moderation_points: 2}
    demote: {low_water: 0.8, grace_days: 21}
  - id: mentor
    name_zh: 助教
    name_en: Mentor
    perks: [助教津贴]
    demote: never

roles:
  window_days: 30
  newcomer_days: 14
  active_min_value: 5.0
  core_min_value: 30.0
  kol_min_value: 80.0
  kol_min_distinct_repliers: 10

role_targets:
  lurker: {max: 0.6}
  active: {min: 0.2}
  core: {min: 0.05}
  kol: {min: 0.01}
  disruptor: {max: 0.02}

referral:
  enabled: true
  ladder:
    - {invitees: 3,  reward: {kind: points, value: 300}}
    - {invitees: 8,  reward: {kind: coupon, value: "进阶会员 8 折 / 20% off membership"}}
    - {invitees: 20, reward: {kind: tier, value: core}}
  qualification: {stay_days: 7, must_speak: true, min_value: 1.0}
  clawback_days: 30
  fraud: {max_invites_per_day: 5, max_quick_leave_share: 0.5, max_silent_share: 0.7}

# 群主自己的账号是工作人员，不参与排行、角色、等级和拉新奖励（小助手是机器人，由平台标出）
staff: ["Leo（群主）", "Leo | AI Coding Bootcamp"]

segments:
  - {id: main, name: 交流主群 Main, groups: [wx-main]}
  - {id: members, name: 进阶会员 Members, groups: [wx-advanced]}
  - {id: english, name: English, groups: [tg-english]}

routing:
  holding_group: wx-main
  rules:
    - {match: {tags: [paid]}, segment: members}
    - {match: {tags: [english]}, segment: english}
    - {match: {}, segment: main}
"""
