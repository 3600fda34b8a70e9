//! Tests of a generated client that read the same in both API generations: `client.rs` (2.2)
//! and `generation_23.rs` (2.3) each expand [`typed_client_tests`] with their own crate's
//! `Client`, `BrandPost` and `brand` module, and their own `config()`, in scope.

/// Expands to the shared tests (see the module docs).
macro_rules! typed_client_tests {
    () => {
        /// `count()` sends one list request with `totalOnly=true` and reads `{total}`; an entity the
        /// server does not count (AtroCore's `disabledCountQueryEntityList`: `total` -1 or -2) counts as
        /// `None`, and its streams still deliver every record once: they stop on what the pages say, not
        /// on a count.
        #[tokio::test]
        async fn counts_ask_for_the_total_only_and_streams_need_no_count() {
            for disabled in [false, true] {
                let config = if disabled {
                    config().count_disabled(["Brand"])
                } else {
                    config()
                };
                let sim = Simulator::start(config).await.unwrap();
                let client = Client::builder(sim.base_url())
                    .basic_auth("admin", "admin")
                    .build()
                    .unwrap();
                for i in 0..7 {
                    client
                        .brand()
                        .create(&BrandPost {
                            code: Some(format!("b{i}")),
                            ..BrandPost::new(format!("B{i}"))
                        })
                        .await
                        .unwrap();
                }
                sim.take_requests();
                let filter = brand::filter::name().starts_with("B");
                let n = client.brand().list().filter(filter).count().await.unwrap();
                assert_eq!(n, (!disabled).then_some(7), "disabled: {disabled}");
                let sent = sim.take_requests();
                assert_eq!(sent.len(), 1);
                assert_eq!(sent[0].query_value("totalOnly"), Some("true"));
                assert_eq!(sent[0].query_value("maxSize"), Some("1"));
                let all: Vec<_> = client
                    .brand()
                    .list()
                    .max_size(3)
                    .stream()
                    .try_collect()
                    .await
                    .unwrap();
                assert_eq!(all.len(), 7, "disabled: {disabled}");
                let all: Vec<_> = client
                    .brand()
                    .list()
                    .max_size(3)
                    .keyset_stream()
                    .try_collect()
                    .await
                    .unwrap();
                assert_eq!(all.len(), 7, "disabled: {disabled}");
            }
        }

        /// On an instance with "Only one auth token per user", a second client logging in as the same
        /// user revokes the first one's token: the first fails with an error that says so instead of
        /// logging in again (which would revoke the other in turn). More than 10 refused logins make
        /// the server refuse every login with 403: reported as an authentication failure, never retried.
        #[tokio::test]
        async fn revoked_sessions_and_the_failed_login_limit_are_clear_errors() {
            let sim = Simulator::start(config().auth_token_prevent_concurrent(true))
                .await
                .unwrap();
            let client = |password: &str| {
                Client::builder(sim.base_url())
                    .basic_auth("admin", password)
                    .build()
                    .unwrap()
            };
            let (a, b) = (client("admin"), client("admin"));
            a.brand().list().max_size(1).await.unwrap();
            b.brand().list().max_size(1).await.unwrap();
            sim.take_requests();
            let e = a.brand().list().max_size(1).await.unwrap_err();
            assert!(e.is_auth(), "{e}");
            assert!(
                e.to_string()
                    .contains("another login as the same user revoked it"),
                "{e}"
            );
            // No login was attempted: the other session still works.
            assert_eq!(sim.take_requests().len(), 1);
            b.brand().list().max_size(1).await.unwrap();

            for _ in 0..11 {
                let e = client("wrong").brand().list().await.unwrap_err();
                assert!(e.is_auth(), "{e}");
            }
            sim.take_requests();
            let e = client("admin").brand().list().await.unwrap_err();
            assert!(e.is_auth(), "{e}");
            assert_eq!(e.status(), Some(403));
            assert!(e.to_string().contains("too many failed"), "{e}");
            assert_eq!(sim.take_requests().len(), 1, "one login, not retried");
        }
    };
}
