"""The meeting service's REST API (Huawei Cloud Meeting): App ID login, terminals, status.

- `client.CloudClient`: one verified HTTPS client and one token per run.
- `context.cloud_settings(hosts)` / `context.client_for(hosts)`: from the rooms' `cloud.*` keys.
- `status.service_registrations(client, numbers)`: registration as the service sees it.
- `commands`: `endpoints cloud terminals`, `endpoints cloud add`, `show_service_check`.
"""
