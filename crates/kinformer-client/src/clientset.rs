//! The typed clientset: one accessor per group/version and one per kind, as client-go's
//! `kubernetes.Clientset` (`clientset.CoreV1().ConfigMaps("ns").List(...)`).
//!
//! ```no_run
//! # async fn example(client: kinformer_client::Client) -> kinformer_client::Result<()> {
//! use kinformer_client::clientset::Clientset;
//! use kinformer_meta::ListOptions;
//! let clientset = Clientset::new(client);
//! let config_maps = clientset.core_v1().config_maps("default").list(&ListOptions::default()).await?;
//! let nodes = clientset.core_v1().nodes().list(&ListOptions::default()).await?;
//! # let _ = (config_maps, nodes); Ok(()) }
//! ```
//!
//! Every accessor returns an [`Api<K>`](crate::Api); a namespaced kind takes the namespace
//! (`""` means all namespaces, for list and watch), a cluster-scoped kind takes none.

use kinformer_typed::api::{apiextensions, apps, batch, coordination, core, events};

use crate::api::Api;
use crate::Client;

/// Typed access to every built-in kind of `kinformer-typed`.
#[derive(Clone, Debug)]
pub struct Clientset {
    client: Client,
}

impl Clientset {
    /// A clientset sending through `client`.
    pub fn new(client: Client) -> Self {
        Clientset { client }
    }

    /// The client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Builds an Api for a namespaced kind; an empty namespace means all namespaces.
fn namespaced<K: kinformer_meta::Resource>(client: &Client, namespace: &str) -> Api<K> {
    if namespace.is_empty() {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), namespace)
    }
}

/// Generates the group/version clients and their kind accessors.
macro_rules! group_clients {
    ($(
        $client:ident, $accessor:ident, $group_doc:literal, $group_mod:ident :: $version_mod:ident;
        namespaced { $($ns_method:ident => $ns_kind:ident),* $(,)? }
        cluster { $($cl_method:ident => $cl_kind:ident),* $(,)? }
    )*) => {$(
        #[doc = concat!("The `", $group_doc, "` kinds.")]
        #[derive(Clone, Debug)]
        pub struct $client {
            client: Client,
        }

        impl Clientset {
            #[doc = concat!("The `", $group_doc, "` group/version.")]
            pub fn $accessor(&self) -> $client {
                $client { client: self.client.clone() }
            }
        }

        impl $client {
            $(
                #[doc = concat!("`", stringify!($ns_kind), "` objects in a namespace (`\"\"`: all namespaces).")]
                pub fn $ns_method(&self, namespace: &str) -> Api<$group_mod::$version_mod::$ns_kind> {
                    namespaced(&self.client, namespace)
                }
            )*
            $(
                #[doc = concat!("`", stringify!($cl_kind), "` objects (cluster-scoped).")]
                pub fn $cl_method(&self) -> Api<$group_mod::$version_mod::$cl_kind> {
                    Api::all(self.client.clone())
                }
            )*
        }
    )*};
}

group_clients! {
    CoreV1Client, core_v1, "v1", core::v1;
    namespaced {
        pods => Pod,
        config_maps => ConfigMap,
        secrets => Secret,
        services => Service,
        events => Event,
        service_accounts => ServiceAccount,
        endpoints => Endpoints,
        persistent_volume_claims => PersistentVolumeClaim,
    }
    cluster {
        namespaces => Namespace,
        nodes => Node,
    }

    AppsV1Client, apps_v1, "apps/v1", apps::v1;
    namespaced {
        deployments => Deployment,
        replica_sets => ReplicaSet,
        stateful_sets => StatefulSet,
        daemon_sets => DaemonSet,
    }
    cluster {}

    BatchV1Client, batch_v1, "batch/v1", batch::v1;
    namespaced {
        jobs => Job,
        cron_jobs => CronJob,
    }
    cluster {}

    CoordinationV1Client, coordination_v1, "coordination.k8s.io/v1", coordination::v1;
    namespaced {
        leases => Lease,
    }
    cluster {}

    EventsV1Client, events_v1, "events.k8s.io/v1", events::v1;
    namespaced {
        events => Event,
    }
    cluster {}

    ApiextensionsV1Client, apiextensions_v1, "apiextensions.k8s.io/v1", apiextensions::v1;
    namespaced {}
    cluster {
        custom_resource_definitions => CustomResourceDefinition,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinformer_meta::Resource;
    use kinformer_typed::BUILTIN_KINDS;

    fn clientset() -> Clientset {
        let config = crate::Config::new("http://127.0.0.1:1".parse().unwrap());
        Clientset::new(Client::try_from(config).unwrap())
    }

    #[test]
    fn accessors_address_the_collection_client_go_would() {
        let cs = clientset();
        assert_eq!(
            cs.core_v1().config_maps("ns").request().collection_path(),
            "/api/v1/namespaces/ns/configmaps"
        );
        assert_eq!(
            cs.apps_v1().deployments("ns").request().collection_path(),
            "/apis/apps/v1/namespaces/ns/deployments"
        );
        assert_eq!(
            cs.core_v1().pods("").request().collection_path(),
            "/api/v1/pods"
        );
        assert_eq!(
            cs.core_v1().nodes().request().collection_path(),
            "/api/v1/nodes"
        );
        assert_eq!(
            cs.apiextensions_v1()
                .custom_resource_definitions()
                .request()
                .collection_path(),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        );
    }

    #[test]
    fn every_builtin_kind_has_an_accessor() {
        let cs = clientset();
        let paths = [
            cs.core_v1().pods("").request().clone(),
            cs.core_v1().config_maps("").request().clone(),
            cs.core_v1().secrets("").request().clone(),
            cs.core_v1().services("").request().clone(),
            cs.core_v1().namespaces().request().clone(),
            cs.core_v1().nodes().request().clone(),
            cs.core_v1().events("").request().clone(),
            cs.core_v1().service_accounts("").request().clone(),
            cs.core_v1().endpoints("").request().clone(),
            cs.core_v1().persistent_volume_claims("").request().clone(),
            cs.apps_v1().deployments("").request().clone(),
            cs.apps_v1().replica_sets("").request().clone(),
            cs.apps_v1().stateful_sets("").request().clone(),
            cs.apps_v1().daemon_sets("").request().clone(),
            cs.batch_v1().jobs("").request().clone(),
            cs.batch_v1().cron_jobs("").request().clone(),
            cs.coordination_v1().leases("").request().clone(),
            cs.apiextensions_v1()
                .custom_resource_definitions()
                .request()
                .clone(),
            cs.events_v1().events("").request().clone(),
        ];
        let mut covered: Vec<String> = paths
            .iter()
            .map(|r| r.collection_path().to_owned())
            .collect();
        let mut expected: Vec<String> = BUILTIN_KINDS
            .iter()
            .map(|k| k.api_resource().gvr().path(None, None, None))
            .collect();
        covered.sort();
        expected.sort();
        assert_eq!(covered, expected);
        assert_eq!(kinformer_typed::Deployment::PLURAL, "deployments");
    }
}
