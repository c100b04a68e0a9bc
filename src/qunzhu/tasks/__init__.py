"""The operator's day (今日计划): tasks generated from what needs a person, the plan the
dashboard, the API and ``qunzhu today`` show, and the daily digest."""
