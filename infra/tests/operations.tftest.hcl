# What pages an on-call engineer (the alarms topic, the missing-ticks alarm) and what a Dagster
# deployment watching production ticks may read, asserted at plan time with the mocked provider.
# marketdata_tests/test_infra.py evaluates the missing-ticks expression over real weeks.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

variables {
  topic       = "arn:aws:sns:us-east-1:123456789012:marketdata-alarms"
  bucket      = "arn:aws:s3:::marketdata-lake-123456789012"
  time_budget = jsondecode(file("../marketdata_assets/operations/time_budget.json"))
}

run "every_alarm_notifies_the_topic_and_duration_follows_the_time_budget" {
  command = plan

  assert {
    condition     = aws_sns_topic.alarms.name == "marketdata-alarms" && output.alarm_topic == var.topic
    error_message = "the alarms topic is <name>-alarms, named in the outputs"
  }
  assert {
    condition     = length(aws_sns_topic_subscription.alarm_email) == 0
    error_message = "without alarm_email nothing is subscribed"
  }
  assert {
    condition = alltrue([
      for alarm in [aws_cloudwatch_metric_alarm.ticks_missing, aws_cloudwatch_metric_alarm.tick_errors, aws_cloudwatch_metric_alarm.dead_letters, aws_cloudwatch_metric_alarm.tick_duration] :
      alarm.alarm_actions == toset([var.topic]) && alarm.ok_actions == toset([var.topic])
    ])
    error_message = "every alarm notifies the topic when it fires and when it recovers"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.tick_duration.threshold == var.time_budget.lambda_timeout_s * 800
    error_message = "the duration alarm fires at a p99 over 80 % of the time budget's Lambda timeout"
  }
}

run "an_alarm_email_subscribes_and_extra_actions_are_added" {
  command = plan
  variables {
    alarm_email   = "oncall@example.com"
    alarm_actions = ["arn:aws:sns:us-east-1:123456789012:pager"]
  }

  assert {
    condition = (
      length(aws_sns_topic_subscription.alarm_email) == 1 &&
      aws_sns_topic_subscription.alarm_email[0].protocol == "email" &&
      aws_sns_topic_subscription.alarm_email[0].endpoint == "oncall@example.com" &&
      aws_sns_topic_subscription.alarm_email[0].topic_arn == var.topic
    )
    error_message = "alarm_email subscribes that address to the alarms topic by e-mail"
  }
  assert {
    condition = alltrue([
      for alarm in [aws_cloudwatch_metric_alarm.ticks_missing, aws_cloudwatch_metric_alarm.tick_errors, aws_cloudwatch_metric_alarm.dead_letters, aws_cloudwatch_metric_alarm.tick_duration] :
      alarm.alarm_actions == toset([var.topic, "arn:aws:sns:us-east-1:123456789012:pager"])
    ])
    error_message = "alarm_actions are notified besides the topic, by every alarm"
  }
}

run "missing_ticks_breach_in_session_minutes_only" {
  command = plan

  assert {
    condition = alltrue([
      aws_cloudwatch_metric_alarm.ticks_missing.treat_missing_data == "breaching",
      aws_cloudwatch_metric_alarm.ticks_missing.comparison_operator == "LessThanThreshold",
      aws_cloudwatch_metric_alarm.ticks_missing.threshold == 1,
      aws_cloudwatch_metric_alarm.ticks_missing.evaluation_periods == 3,
      aws_cloudwatch_metric_alarm.ticks_missing.datapoints_to_alarm == 3,
    ])
    error_message = "three minutes in a row under one tick, missing data included, is an alarm"
  }
  assert {
    condition = [
      for q in aws_cloudwatch_metric_alarm.ticks_missing.metric_query :
      jsonencode([one(q.metric).namespace, one(q.metric).metric_name, one(q.metric).dimensions, one(q.metric).stat, one(q.metric).period])
      if q.id == "ticks"
    ] == [jsonencode(["MarketData", "Ticks", { Function = "marketdata-tick" }, "Sum", 60])]
    error_message = "ticks are the Lambda's embedded metric MarketData/Ticks of this function, summed per minute"
  }
  assert {
    condition = [for q in aws_cloudwatch_metric_alarm.ticks_missing.metric_query : q.expression if q.return_data == true] == [
      "IF(DAY(ticks) <= 5 AND ((HOUR(ticks) == 14 AND MINUTE(ticks) >= 30) OR (HOUR(ticks) >= 15 AND HOUR(ticks) < 20)), FILL(ticks, 0), 1)"
    ]
    error_message = "the alarm judges the ticks (missing ones as 0) in 14:30-19:59 UTC on weekdays, and 1 otherwise"
  }
}

run "ticks_observer_reads_run_records_the_tick_datasets_and_latest_prices_only" {
  command = plan

  assert {
    condition     = aws_iam_policy.ticks_observer.name == "marketdata-ticks-observer"
    error_message = "the observer is a managed policy, to attach to a Dagster deployment's role"
  }
  assert {
    condition     = toset(flatten([for s in local.ticks_observer_policy.Statement : s.Action])) == toset(["s3:GetObject", "s3:ListBucket", "dynamodb:Scan"])
    error_message = "the observer may get, list and scan, nothing more"
  }
  assert {
    condition     = one([for s in local.ticks_observer_policy.Statement : s.Resource if s.Sid == "LatestPrices"]) == [aws_dynamodb_table.latest_prices.arn]
    error_message = "the freshness check may scan the latest-price table, and only it"
  }
  assert {
    condition = toset(one([for s in local.ticks_observer_policy.Statement : s.Resource if s.Sid == "TickObjects"])) == toset([
      for p in ["runs", "raw", "curated", "validated", "quarantine"] : "${var.bucket}/${p}/*"
    ])
    error_message = "objects may be read under runs/ and the tick datasets a record names, nothing else"
  }
  assert {
    condition = (
      one([for s in local.ticks_observer_policy.Statement : s.Resource if s.Sid == "TickListing"]) == [var.bucket] &&
      toset(one([for s in local.ticks_observer_policy.Statement : s.Condition.StringLike["s3:prefix"] if s.Sid == "TickListing"])) == toset(["runs/*", "raw/*", "curated/*", "validated/*", "quarantine/*"])
    )
    error_message = "the bucket may be listed only under those prefixes"
  }
}
