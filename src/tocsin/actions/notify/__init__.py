"""Reaching people: contact methods and rules, pages dispatched into deliveries, sends, outcomes,
channel tiers, cancellations, magic links and provider circuit breakers."""
