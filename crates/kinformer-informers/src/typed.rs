//! Typed accessors of a [`SharedInformerFactory`] (`factory.core_v1().pods()`), one per kind
//! of `kinformer-typed`, and the group/version/resource table behind `for_resource`.

use std::sync::Arc;

use kinformer_meta::{GroupVersionResource, Resource};
use kinformer_typed::api;

use crate::error::Result;
use crate::factory::{SharedInformerFactory, TypedInformer};
use crate::informer_set::ErasedInformer;

/// Generates the group/version accessor types and the `for_resource` table.
macro_rules! group_informers {
    ($(
        $group:ident, $accessor:ident, $group_doc:literal, $group_mod:ident :: $version_mod:ident {
            $($method:ident => $kind:ident),* $(,)?
        }
    )*) => {
        $(
            #[doc = concat!("The informers of the `", $group_doc, "` kinds.")]
            pub struct $group {
                factory: SharedInformerFactory,
            }

            impl SharedInformerFactory {
                #[doc = concat!("The `", $group_doc, "` informers.")]
                pub fn $accessor(&self) -> $group {
                    $group { factory: self.clone() }
                }
            }

            impl $group {
                $(
                    #[doc = concat!("The `", stringify!($kind), "` informer and lister.")]
                    pub fn $method(&self) -> TypedInformer<api::$group_mod::$version_mod::$kind> {
                        self.factory.typed()
                    }
                )*
            }
        )*

        /// The informer of a typed kind's group/version/resource; `None` when no kind has it.
        pub(crate) fn typed_informer_for(
            factory: &SharedInformerFactory,
            gvr: &GroupVersionResource,
        ) -> Option<Result<Arc<dyn ErasedInformer>>> {
            $($(
                if *gvr == <api::$group_mod::$version_mod::$kind as Resource>::api_resource().gvr() {
                    return Some(
                        factory
                            .informer_for::<api::$group_mod::$version_mod::$kind>()
                            .map(|informer| Arc::new(informer) as Arc<dyn ErasedInformer>),
                    );
                }
            )*)*
            None
        }
    };
}

group_informers! {
    CoreV1Informers, core_v1, "v1", core::v1 {
        pods => Pod,
        config_maps => ConfigMap,
        secrets => Secret,
        services => Service,
        events => Event,
        service_accounts => ServiceAccount,
        endpoints => Endpoints,
        persistent_volume_claims => PersistentVolumeClaim,
        namespaces => Namespace,
        nodes => Node,
    }
    AppsV1Informers, apps_v1, "apps/v1", apps::v1 {
        deployments => Deployment,
        replica_sets => ReplicaSet,
        stateful_sets => StatefulSet,
        daemon_sets => DaemonSet,
    }
    BatchV1Informers, batch_v1, "batch/v1", batch::v1 {
        jobs => Job,
        cron_jobs => CronJob,
    }
    CoordinationV1Informers, coordination_v1, "coordination.k8s.io/v1", coordination::v1 {
        leases => Lease,
    }
    EventsV1Informers, events_v1, "events.k8s.io/v1", events::v1 {
        events => Event,
    }
    ApiextensionsV1Informers, apiextensions_v1, "apiextensions.k8s.io/v1", apiextensions::v1 {
        custom_resource_definitions => CustomResourceDefinition,
    }
}
