"""Telling people about a night: failure, "screened with warnings" and an optional morning
summary, by e-mail (SMTP) and webhook (Teams/Slack-style JSON). Counts and folders only, never
a value from the extract. Configured in the site mapping's `notifications:` section."""
