//! The custom options the document reads from the descriptors, by the names
//! the configuration gives: a field's JSON Schema `format` and `pattern`,
//! and the method option that makes a method callable without credentials.
//! The gateway knows no option by itself.

use prost_reflect::{DescriptorPool, ExtensionDescriptor, FieldDescriptor, Kind, MethodDescriptor};

use crate::GatewayConfig;
use crate::errors::GatewayError;

pub(crate) struct Annotations {
    format: Option<ExtensionDescriptor>,
    pattern: Option<ExtensionDescriptor>,
    public: Option<ExtensionDescriptor>,
}

impl Annotations {
    /// Looks the configured options up; a name that is not an extension of
    /// the right kind is an error, so a typo cannot silently drop them all.
    pub(crate) fn new(
        pool: &DescriptorPool,
        config: &GatewayConfig,
    ) -> Result<Annotations, GatewayError> {
        let field_options = "google.protobuf.FieldOptions";
        Ok(Annotations {
            format: extension(
                pool,
                config.format_field_option.as_deref(),
                field_options,
                Kind::String,
            )?,
            pattern: extension(
                pool,
                config.pattern_field_option.as_deref(),
                field_options,
                Kind::String,
            )?,
            public: extension(
                pool,
                config.public_method_option.as_deref(),
                "google.protobuf.MethodOptions",
                Kind::Bool,
            )?,
        })
    }

    /// The field's JSON Schema `format`, such as `email`.
    pub(crate) fn format(&self, field: &FieldDescriptor) -> Option<String> {
        string_option(field, self.format.as_ref())
    }

    /// A regular expression every value of the field matches.
    pub(crate) fn pattern(&self, field: &FieldDescriptor) -> Option<String> {
        string_option(field, self.pattern.as_ref())
    }

    /// Whether the method answers callers without credentials.
    pub(crate) fn is_public(&self, method: &MethodDescriptor) -> bool {
        self.public.as_ref().is_some_and(|extension| {
            let options = method.options();
            options.has_extension(extension)
                && options.get_extension(extension).as_bool() == Some(true)
        })
    }
}

fn extension(
    pool: &DescriptorPool,
    name: Option<&str>,
    extendee: &'static str,
    kind: Kind,
) -> Result<Option<ExtensionDescriptor>, GatewayError> {
    let Some(name) = name else {
        return Ok(None);
    };
    pool.get_extension_by_name(name)
        .filter(|extension| {
            extension.containing_message().full_name() == extendee
                && extension.kind() == kind
                && !extension.is_list()
        })
        .map(Some)
        .ok_or_else(|| GatewayError::UnknownOption {
            name: name.to_owned(),
            expected: match kind {
                Kind::Bool => format!("a bool extension of {extendee}"),
                _ => format!("a string extension of {extendee}"),
            },
        })
}

fn string_option(
    field: &FieldDescriptor,
    extension: Option<&ExtensionDescriptor>,
) -> Option<String> {
    let extension = extension?;
    let options = field.options();
    if !options.has_extension(extension) {
        return None;
    }
    options
        .get_extension(extension)
        .as_str()
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}
