# What pages: every alarm below notifies the alarms topic (and var.alarm_actions), on ALARM
# and again on OK, so whoever was paged also learns that it recovered.
locals {
  alarm_actions = concat([aws_sns_topic.alarms.arn], var.alarm_actions)

  # The NYSE session is 09:30-16:00 New York time: 13:30-20:00 UTC under EDT, 14:30-21:00 UTC
  # under EST. An alarm knows only UTC, so it watches the minutes inside the session under both,
  # 14:30-19:59 UTC Monday to Friday (DAY: 1 = Monday, 7 = Sunday). Holidays and early closes
  # need no exception: the Scheduler fires on them too and the handler counts a skipped tick.
  in_session = "DAY(ticks) <= 5 AND ((HOUR(ticks) == 14 AND MINUTE(ticks) >= 30) OR (HOUR(ticks) >= 15 AND HOUR(ticks) < 20))"
  # A minute without a tick is 0 while it should have one, and 1 (never breaching) otherwise.
  ticks_expected = var.around_the_clock ? "FILL(ticks, 0)" : "IF(${local.in_session}, FILL(ticks, 0), 1)"
}

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key (its policy, which cannot be edited, denies them the key) and the messages are alarm state changes only; a CMK costs $1/month.
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# The schedule stopped, the Scheduler cannot invoke the function, or every invocation dies
# before it logs: the Lambda prints one embedded-metric line per invocation (`Ticks` = 1, a
# skipped tick included), so a session minute without one is a missing tick. Three minutes in
# a row: one late delivery shifts a tick into the next minute, and the newest minute's log line
# may still be on its way when the alarm evaluates.
resource "aws_cloudwatch_metric_alarm" "ticks_missing" {
  alarm_name          = "${local.function_name}-ticks-missing"
  alarm_description   = "No tick for 3 minutes while the market is open (14:30-19:59 UTC, Monday to Friday): the schedule or the function is down."
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id = "ticks"
    metric {
      namespace   = "MarketData"
      metric_name = "Ticks"
      dimensions  = { Function = aws_lambda_function.tick.function_name }
      stat        = "Sum"
      period      = 60
    }
    return_data = false
  }

  metric_query {
    id          = "expected"
    expression  = local.ticks_expected
    label       = "Ticks in session minutes (1 outside them)"
    return_data = true
  }
}

# A failed tick raises, so Lambda counts it: this covers timeouts and crashes before the tick's
# own metric line too (a `Failed` metric alarm would page twice for the same tick).
resource "aws_cloudwatch_metric_alarm" "tick_errors" {
  alarm_name          = "${local.function_name}-errors"
  alarm_description   = "A tick failed (its event is in the dead-letter queue)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.tick.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${local.function_name}-dead-letters"
  alarm_description   = "Failed or undeliverable ticks are waiting in the dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letters.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "tick_duration" {
  alarm_name          = "${local.function_name}-duration"
  alarm_description   = "Ticks run close to the timeout: the minute is at risk."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.tick.function_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = local.time_budget.lambda_timeout_s * 1000 * 0.8
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
