"""The commented ``community.yaml`` that ``qunzhu spec init`` writes: a realistic paid
training community, every section filled in, comments in Chinese and English. It must
load and pass the lint without findings (tests hold it to that)."""

from __future__ import annotations

_TEMPLATE = """\
# community.yaml —— 社群定位规格 / community positioning spec
# 检查 Check:   qunzhu spec check community.yaml
# 每节都有默认值，不需要的可以删掉。Every section has defaults: delete what you do not need.
# 说明 Guide:   docs/spec.md
version: 1

# ── 为什么 Why ─────────────────────────────────────────────────────────────────
name: AI 产品经理实战营
purpose: >-
  帮在职产品经理把 AI 用进日常工作：每周实战作业、同伴互评、导师答疑。
  Help working product managers put AI to work: weekly practice, peer review, mentor Q&A.

# ── 成员得到什么 What members get（付费社群必须写清楚 paid communities must say it）──
member_value:
  - 每周一个实战作业并获得点评 / one reviewed practice task a week
  - 导师 24 小时内答疑 / mentors answer within 24 hours
  - 行业案例库与模板 / a library of cases and templates
  - 同行人脉与内推机会 / peers and job referrals

# ── 在哪里 Where: telegram | qq | wecom | wechat | discord | irc | whatsapp ──────
platforms: [wechat, wecom]

# ── 为谁 Who（用户画像 persona）────────────────────────────────────────────────
persona:
  age_band: 25-40
  gender: any            # any | female | male | mostly_female | mostly_male
  regions: [北京, 上海, 深圳, 杭州, 远程]
  occupations: [产品经理, 项目经理, 运营]
  needs: [用 AI 提效, 转型做 AI 产品, 积累作品集]

# ── 何时 When: long_term 长期 | campaign 活动（必须写 ends_on: 2025-06-30）──────
lifecycle:
  kind: long_term

# ── 如何变现 How it earns ──────────────────────────────────────────────────────
# model: none | membership_fee | product_sales | ads | services | knowledge_paid | hybrid
monetization:
  model: knowledge_paid
  plans:
    - id: annual
      name: 年度会员 Annual membership
      kind: membership            # membership | product | service | knowledge
      price_cents: 199900         # 金额以分计 price in cents: ¥1999.00
      currency: CNY
      period_days: 365            # 不写则一次性、永不到期 omit: one-off, never expires
      tier: member                # 付费期间的等级 tier held while paid
      on_expiry: downgrade_to:alumni   # nothing | remove | downgrade_to:<tier>
    - id: camp
      name: 21 天集训营 21-day intensive
      kind: knowledge
      price_cents: 49900
      currency: CNY
      period_days: 30
      tier: member
      on_expiry: downgrade_to:alumni

# 类型 type: product 产品 | interest 同好 | knowledge 知识 | resource 资源 | project 项目 | hybrid
type: knowledge

# ── 文化 Culture ───────────────────────────────────────────────────────────────
culture:
  slogan: 学以致用，互相成就 / Learn it, use it, lift each other
  advocate: [分享真实案例, 先搜索再提问, 被解答后致谢]
  oppose: [广告和私下拉人, 搬运不注明出处, 人身攻击]

# ── 门槛 Threshold: open | application 申请 | paid 付费 | invite_only 邀请 | join_code 入群码
threshold:
  kind: paid
  plans: [annual, camp]       # 付费即可入群的方案 plans that admit
  review: manual              # manual 人工审核 | auto 按词表与选项自动审核
  questions:                  # 入群问卷，用于分流 intake form, used by routing below
    - id: level
      text_zh: 你现在用 AI 到什么程度？
      text_en: How much do you use AI today?
      required: true
      choices: [beginner, practitioner, builder]
    - id: city
      text_zh: 你常驻哪个城市？
      text_en: Which city are you based in?
      required: false
  allow_words: []
  deny_words: [代理, 刷单, 兼职日结]   # 出现即拒绝 answers with these are declined

# ── 规模 Size: 长期服务群 200–300 人；核心小群如 69 人 ─────────────────────────────
size:
  cap: 300
  policy: new_group           # new_group 满员开新群 | waitlist 排队 | one_in_one_out 一进一出
  auto: false                 # 一进一出时自动移出价值最低者 evict without asking
  protected: [owner, admin, mentor]   # 角色/等级/成员 id，永不自动移出 never evicted

# ── 群规 Rules. action: allow|flag|delete|delete_warn|warn|mute|remove|blacklist
#    severity = 每次违规记的分 points per breach; 累计分数触发下面的处罚阶梯 ───────────
rules:
  ads:                  {action: delete_warn, severity: 3}
  links:                {allowed: true, allow_domains: [], newcomer_block_days: 3, severity: 2}
  qr_codes:             {action: delete_warn, severity: 3}
  contact_cards:        {action: delete_warn, severity: 2}
  contact_solicitation: {action: delete_warn, severity: 3}   # 留手机号/微信号/QQ号 phone, ids
  group_invites:        {action: delete_warn, severity: 4}   # 拉人进别的群 invites elsewhere
  banned_words:
    {words: [加我私聊, 稳赚不赔], use_base_list: true, action: delete_warn, severity: 2}
  flooding:             {max_messages: 8, per_seconds: 30, action: mute, severity: 1}
  duplicate_across_groups: {max_groups: 3, per_seconds: 600, action: delete_warn, severity: 2}
  mass_mentions:        {max_mentions: 5, action: delete_warn, severity: 2}
  who_may_invite:       members      # all | members | operators
  uninvited_join:       ask          # 非许可者邀请入群: flag 标记 | ask 请管理员决定 | remove 移出
  classifier:           {threshold_flag: 0.6, threshold_act: 0.9, action: delete_warn, severity: 3}

# ── 处罚阶梯 Escalation: 按未过期积分逐级 warn → mute → remove → blacklist ─────────
escalation:
  points_expire_days: 30
  ladder:
    - {points: 1,  action: warn}
    - {points: 6,  action: mute, duration_minutes: 60}
    - {points: 12, action: remove}
    - {points: 20, action: blacklist}
  tier_slack: {alumni: 1.5, core: 0.5}   # 等级积分系数 points multiplier by tier
  protected: [owner, admin, mentor]

# ── 提示语 Messages: 占位符 placeholders {member} {rule} {duration} {group} {community}
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
    zh-CN: "欢迎 {member} 加入{group}！先看群公告，再用“姓名-城市-岗位”做个自我介绍吧。"
    en: "Welcome to {group}, {member}! Read the pinned rules, then introduce yourself."

# ── 群发 Broadcasts: 静默时段内不发送 nothing goes out in quiet hours (community time zone);
#    每日上限 daily_cap: 全部群发每天最多发出的消息条数, 超出的顺延到次日
messaging:
  quiet_hours: "22:00-08:00"
  daily_cap: 2000
  welcome_batch: 10            # 一条欢迎语最多点名几位新成员 (批量入群时合并欢迎)

# ── 群SOP Playbooks: 触发后按天执行的步骤 steps days after a trigger
#    member_joined 入群 | before_expiry 会员到期前; unless: spoke 已发言则跳过
playbooks:
  - name: newcomer
    trigger: member_joined
    steps:
      - day: 1
        text: {zh-CN: "{name}，欢迎！来做个自我介绍吧", en: "{name}, welcome! Introduce yourself"}
      - day: 3
        unless: spoke
        text: {zh-CN: "{name}，有问题随时在群里问", en: "{name}, ask anything in the group"}
      - day: 7
        kind: task
        text: {zh-CN: "问问 {name} 第一周感受", en: "Ask {name} about their first week"}

# ── 等级 Tiers: 从低到高 lowest first. promote 条件须全部满足 all criteria must hold;
#    demote: {low_water: 0.9, grace_days: 14} 低于晋级条件 90% 持续 14 天才降级, 或 never
tiers:
  - id: alumni
    name_zh: 往期学员
    name_en: Alumni
    perks: [案例库只读]
  - id: member
    name_zh: 正式会员
    name_en: Member
    perks: [每周作业点评, 导师答疑]
    promote: {plan: annual}   # 付费授予，到期按方案 on_expiry 降级 expiry demotes
  - id: core
    name_zh: 核心学员
    name_en: Core member
    perks: [线下活动优先, 内推机会]
    promote: {min_value: 60, min_days_active: 20, min_tenure_days: 60, max_moderation_points: 2}
    demote: {low_water: 0.9, grace_days: 14}
  - id: mentor
    name_zh: 助教导师
    name_en: Mentor
    perks: [导师津贴]
    demote: never             # 运营手动任命 appointed by hand

# ── 消息价值 Value: 看贡献不看条数 contribution, not message count ──────────────────
value:
  substance: 1.0              # 信息含量 information content
  link: 0.5
  file: 1.0
  image: 0.3
  code: 1.5
  question: 0.8
  answer: 2.0                 # 解答他人问题 answering someone
  helped_per_member: 1.5      # 每天首次回复的不同成员 per distinct member replied to each day
  reply_earned_per_member: 0.5   # 每位回复你的不同成员 per distinct member who replies
  reaction: 0.1
  check_in: 0.5               # 打卡
  filler_penalty: 0.9         # 水聊、表情、+1、抢红包只保留 10% filler keeps 10%
  duplicate_penalty: 1.0      # 重复消息不计分 duplicates count nothing
  half_life_days: 30          # 价值半衰期 older value fades
  reply_credit: link          # 推断的回复链接：全额 link，或按概率 probability

# ── 角色 Roles (30 天窗口 rolling window) ───────────────────────────────────────────
roles:
  window_days: 30
  newcomer_days: 14           # 入门新手
  lurker_max_messages: 3      # 潜水党
  lurker_max_value: 1.0
  active_min_value: 5.0       # 活跃成员
  core_min_value: 30.0        # 忠实粉/老朋友
  core_min_tenure_days: 60
  kol_min_value: 80.0         # 大咖
  kol_min_distinct_repliers: 10
  disruptor_points: 6         # 破坏分子：未过期违规分 unexpired points

# ── 角色结构目标 Role targets: 占全体成员比例 share of members ─────────────────────
role_targets:
  lurker: {max: 0.6}
  active: {min: 0.2}
  core: {min: 0.05}
  kol: {min: 0.01}
  disruptor: {max: 0.02}

# ── 裂变 Referral ─────────────────────────────────────────────────────────────
referral:
  enabled: true
  ladder:
    - {invitees: 3, reward: {kind: points, value: 300}}
    - {invitees: 10, reward: {kind: coupon, value: "续费 8 折 renewal 20% off"}}
    - {invitees: 30, reward: {kind: tier, value: core}}
  qualification: {stay_days: 7, must_speak: true, min_value: 1.0}   # 有效邀请 qualified invitee
  clawback_days: 30           # 期内违规或退群则收回奖励 rewards taken back within
  fraud: {max_invites_per_day: 20, max_quick_leave_share: 0.5, max_silent_share: 0.8}

# ── 分群与分流 Segments and routing: 第一条匹配的规则生效 first match wins ─────────
segments:
  - {id: starter, name: 入门班 Starter, groups: [aipm-starter-1]}
  - {id: practice, name: 实战班 Practice, groups: [aipm-practice-1, aipm-practice-2]}
  - {id: builders, name: 开发者小组 Builders, groups: [aipm-builders]}
routing:
  holding_group: aipm-lobby   # 未匹配者的等候群 where the unmatched wait
  rules:
    - {match: {answers: {level: beginner}}, segment: starter}
    - {match: {answers: {level: builder}}, segment: builders}
    - {match: {}, segment: practice}   # 兜底放最后 the catch-all goes last

# ── 时区 Time zones: 显示与导入的时间 times shown and imported ──────────────────
timezone: Asia/Shanghai       # 社群时区 the community's zone (IANA)
groups:                       # 按群 ID 单独设置 per group, by its platform id
  aipm-builders: {timezone: Asia/Singapore}   # 该群的时区 this group's own zone

# ── 工作人员 Staff: 不计入排行、角色、等级和拉新奖励 kept out of rankings and rewards ──
# 平台:用户ID 或成员昵称；运营者自己的账号写在这里 platform:user_id or display name
staff: []
"""


def template() -> str:
    """The commented template ``community.yaml``."""
    return _TEMPLATE
