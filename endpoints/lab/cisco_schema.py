"""What a simulated Cisco codec holds: configuration leaves, value spaces, factory defaults.

The CE tree is the real SX20 ce9.1.4 `/configuration.xml` (tests/fixtures/cisco/) with
its recorded site values replaced by factory defaults; its value spaces are the device's
own (`/valuespace.xml` of a RoomOS 11 unit; the few that file lacks are marked).
The TC 7.3 tree follows the SX80 TC7.3 API guide path list (protocols/cisco.md §3).

Spec lines: ``path | value space | default``. A token ``Proxy[2/4]`` is item 2 of a list
of at most 4 (``maxOccurrence``); other tokens are single elements.
"""
from __future__ import annotations

from dataclasses import dataclass

# --- value spaces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueSpace:
    name: str
    kind: str  # Literal | String | Integer
    values: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 0
    hidden: bool = False  # passwords: read back as ***

    def canonical(self, value: str) -> str | None:
        """The value as the device stores it, or None when outside the value space.

        Literals match case-insensitively and come back in the device's spelling
        (`tls` -> `Tls`): the API guides call the API case-insensitive (cisco.md §1.5).
        """
        if self.kind == "Literal":
            return next((v for v in self.values if v.lower() == value.strip().lower()), None)
        if self.kind == "Integer":
            text = value.strip()
            if not text.lstrip("-").isdigit() or not self.minimum <= int(text) <= self.maximum:
                return None
            return str(int(text))
        return value if self.minimum <= len(value) <= self.maximum else None

    @property
    def quoted(self) -> bool:
        """Terminal mode quotes strings and prints literals and integers bare."""
        return self.kind == "String"


def _literal(name: str, *values: str) -> ValueSpace:
    return ValueSpace(name, "Literal", values)


def _string(name: str, low: int, high: int, hidden: bool = False) -> ValueSpace:
    return ValueSpace(name, "String", (), low, high, hidden)


def _integer(name: str, low: int, high: int) -> ValueSpace:
    return ValueSpace(name, "Integer", (), low, high)


_SPACES = [
    _literal("TTPAR_OnOff", "Off", "On"),
    _literal("TTPAR_Off", "Off"),
    _literal("TTPAR_OnOffAuto", "Auto", "Off", "On"),
    _literal("TTPAR_OnOffCurrent", "Current", "Off", "On"),
    _literal("TTPAR_AutoManual", "Auto", "Manual"),
    _literal("TTPAR_AutoManualOff", "Auto", "Manual", "Off"),
    _literal("TTPAR_BestEffortOnOff", "BestEffort", "Off", "On"),
    _literal("TTPAR_CallProtocol", "Auto", "H323", "Sip", "Spark"),
    _literal("TTPAR_CameraCount", "0", "1", "2", "3", "4", "5", "6", "7", "Minimum1", "NotSet"),
    _literal("TTPAR_CameraIdOneCamera", "1"),
    _literal("TTPAR_ConnectivityVS", "Auto", "External", "Internal"),
    _literal("TTPAR_ConnectorVisibility", "Always", "IfSignal", "Never"),
    _literal("TTPAR_ContactInfoVs", "Auto", "DisplayName", "E164Alias", "H323Id", "IPv4", "IPv6", "None",
             "SipUri", "SystemName"),
    _literal("TTPAR_ControlSystemsCount", "1", "NotSet"),
    _literal("TTPAR_DateFormat", "DD_MM_YY", "MM_DD_YY", "YY_MM_DD"),
    _literal("TTPAR_Dot1qMode", "Auto", "Manual", "Off"),
    _literal("TTPAR_EnabledDisabled", "Disabled", "Enabled"),
    _literal("TTPAR_H323_EncKeySize", "Max1024bit", "Min1024bit", "Min2048bit"),
    _literal("TTPAR_H323_GkMode", "Direct", "Gatekeeper"),
    _literal("TTPAR_HTTPModes", "HTTP+HTTPS", "HTTPS", "Off"),
    _literal("TTPAR_HttpProtocols", "HTTP", "HTTPS"),
    _literal("TTPAR_IPv6Assignment", "Autoconf", "DHCPv6", "Static"),
    _literal("TTPAR_IceDefault", "Host", "Relay", "Rflx"),
    _literal("TTPAR_IceMode", "Auto", "Off", "On"),
    _literal("TTPAR_InterfaceSpeed", "10full", "10half", "100full", "100half", "1000full", "Auto"),
    _literal("TTPAR_IpAssignment", "DHCP", "Static"),
    _literal("TTPAR_IpProtocolWithDual", "Dual", "IPv4", "IPv6"),
    _literal("TTPAR_LDAPEncryption", "LDAPS", "None", "STARTTLS"),
    _literal("TTPAR_MenuLanguages", "Arabic", "Catalan", "ChineseSimplified", "ChineseTraditional", "Czech",
             "Danish", "Dutch", "English", "EnglishUK", "Finnish", "French", "FrenchCanadian", "German",
             "Hebrew", "Hungarian", "Italian", "Japanese", "Korean", "Norwegian", "Polish", "Portuguese",
             "PortugueseBrazilian", "Russian", "Spanish", "SpanishLatin", "Swedish", "Turkish"),
    _literal("TTPAR_MonitorRole_Dual_Auto", "Auto", "First", "PresentationOnly", "Second"),
    _literal("TTPAR_MonitorRole_Dual_BasicCurrent", "Current", "First", "Second"),
    _literal("TTPAR_Monitors_Dual", "Auto", "Dual", "DualPresentationOnly", "Single"),
    _literal("TTPAR_MuteEnabled", "InCallOnly", "True"),
    _literal("TTPAR_OsdOutput_2_Auto", "1", "2", "Auto"),
    _literal("TTPAR_PIPPositionCurrent", "CenterLeft", "CenterRight", "Current", "LowerLeft", "LowerRight",
             "UpperCenter", "UpperLeft", "UpperRight"),
    _literal("TTPAR_PhonebookTypes", "CUCM", "Off", "Spark", "TMS", "VCS"),
    _literal("TTPAR_PresentationSources_3", "1", "2", "3"),
    _literal("TTPAR_ProvisioningModes", "Auto", "CUCM", "Edge", "Off", "TMS", "VCS", "Webex"),
    _literal("TTPAR_QoSMode", "Diffserv", "Off"),
    _literal("TTPAR_SIP_DEF_TRNSP", "Auto", "TCP", "Tls", "UDP"),
    _literal("TTPAR_SIP_SERVER_TYPE", "Cisco", "Standard"),
    _literal("TTPAR_SerialBaud", "9600", "19200", "38400", "57600", "115200"),
    _literal("TTPAR_SnmpService", "Off", "ReadOnly", "ReadWrite"),
    _literal("TTPAR_StandbyAction", "None", "PrivacyPosition"),
    _literal("TTPAR_TLSVersions_min_10", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    _literal("TTPAR_TLSVersions_min_11", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    _literal("TTPAR_TimeFormat", "12H", "24H"),
    _literal("TTPAR_TouchPanelCount", "0", "1", "2", "3", "4", "5", "Auto", "Minimum1", "NotSet"),
    _literal("TTPAR_VideoInputPresentationSelection", "AutoShare", "Desktop", "Manual", "OnConnect"),
    _literal("TTPAR_VideoInputSourceType", "PC", "camera", "document_camera", "mediaplayer", "other",
             "whiteboard"),
    _literal("TTPAR_WakeupBootAction", "DefaultCameraPosition", "None", "RestoreCameraPosition"),
    # Not in the recorded value-space file (it is from a newer unit): values from the API
    # guides' value lists, UNSURE in detail.
    _literal("TTPAR_AudioOutDelayMode", "Fixed", "RelativeToHDMI"),
    _literal("TTPAR_DviType", "AnalogRGB", "AnalogYPbPr", "AutoDetect", "Digital"),
    _literal("TTPAR_HttpMethods", "GET", "POST"),
    _literal("TTPAR_IRSensorSetting", "Auto", "Off", "On"),
    _literal("TTPAR_MotionSharpness", "Motion", "Sharpness"),
    _literal("TTPAR_OverscanLevel", "High", "Medium", "None"),
    _literal("TTPAR_PresentationSources_2", "1", "2"),
    _literal("TTPAR_ScreenSettingsLimited", "1280_720_50", "1280_720_60", "1920_1080_50", "1920_1080_60",
             "Auto"),
    # TC 7 only (TC7.3 guide value lists; names in the CE style, UNSURE on TC).
    _literal("TTPAR_CallProtocol_TC", "Auto", "H320", "H323", "Sip"),
    _literal("TTPAR_SIP_DEF_TRNSP_TC", "Auto", "TCP", "Tls", "UDP"),
    _literal("TTPAR_SIP_SERVER_TYPE_TC", "Alcatel", "Avaya", "Cisco", "Microsoft", "Nortel", "Siemens",
             "Standard"),
    _literal("TTPAR_SIP_LINE", "Private", "Shared"),
    _literal("TTPAR_SIP_PROXY_DISCOVERY", "Auto", "Manual"),
    _literal("TTPAR_IPVersion", "IPv4", "IPv6"),
    _literal("TTPAR_TCProvisioningModes", "Auto", "CUCM", "Edge", "Off", "TMS", "VCS"),
    # The recorded space is a 500-entry Olson list; any name up to 64 characters is
    # accepted here rather than carrying the list.
    _string("TTPAR_OlsonTimeZone", 1, 64),
    _integer("INT_0_100", 0, 100), _integer("INT_0_24", 0, 24), _integer("INT_0_290", 0, 290),
    _integer("INT_0_50", 0, 50), _integer("INT_0_63", 0, 63), _integer("INT_0_65535", 0, 65535),
    _integer("INT_0_7", 0, 7), _integer("INT_1_1440", 1, 1440), _integer("INT_1_16", 1, 16),
    _integer("INT_1_31", 1, 31), _integer("INT_1_4094", 1, 4094), _integer("INT_1_480", 1, 480),
    _integer("INT_1_60", 1, 60), _integer("INT_576_1500", 576, 1500), _integer("INT_64_6000", 64, 6000),
    _string("PASSWORD_0_128_NoFilt", 0, 128, hidden=True),
    _string("PASSWORD_0_50_NoFilt", 0, 50, hidden=True),
    _string("PASSWORD_0_64_NoFilt", 0, 64, hidden=True),
    _string("STR_0_1024_NoFilt", 0, 1024), _string("STR_0_128_NoFilt", 0, 128),
    _string("STR_0_255_IP-List", 0, 255), _string("STR_0_255_NoFilt", 0, 255),
    _string("STR_0_255_NoInvalidXmlChars", 0, 255), _string("STR_0_30_NoFilt", 0, 30),
    _string("STR_0_49_NoFilt", 0, 49), _string("STR_0_50_NoFilt", 0, 50), _string("STR_0_550_NoFilt", 0, 550),
    _string("STR_0_64_BasicDomainNameCheck", 0, 64), _string("STR_0_64_IPv4", 0, 64),
    _string("STR_0_64_IPv4v6", 0, 64), _string("STR_0_64_IPv6", 0, 64),
    _string("STR_0_64_IPv6WithNetmask", 0, 64), _string("STR_0_64_NoFilt", 0, 64),
    _string("STR_0_80_NoFilt", 0, 80), _string("STR_1_100_Ringtone", 1, 100),
]
VALUE_SPACES: dict[str, ValueSpace] = {space.name: space for space in _SPACES}

# --- CE 8/9 configuration (SX10, SX20, SX80) -------------------------------------------------

CE_CONFIGURATION = """
Audio DefaultVolume | INT_0_100 | 50
Audio Input Line[1/1] VideoAssociation MuteOnInactiveVideo | TTPAR_OnOff | On
Audio Input Line[1/1] VideoAssociation VideoInputSource | TTPAR_PresentationSources_2 | 2
Audio Input Microphone[1/2] EchoControl Dereverberation | TTPAR_OnOff | Off
Audio Input Microphone[1/2] EchoControl Mode | TTPAR_OnOff | On
Audio Input Microphone[1/2] EchoControl NoiseReduction | TTPAR_OnOff | On
Audio Input Microphone[1/2] Level | INT_0_24 | 14
Audio Input Microphone[1/2] Mode | TTPAR_OnOff | On
Audio Input Microphone[2/2] EchoControl Dereverberation | TTPAR_OnOff | Off
Audio Input Microphone[2/2] EchoControl Mode | TTPAR_OnOff | On
Audio Input Microphone[2/2] EchoControl NoiseReduction | TTPAR_OnOff | On
Audio Input Microphone[2/2] Level | INT_0_24 | 14
Audio Input Microphone[2/2] Mode | TTPAR_OnOff | On
Audio Microphones Mute Enabled | TTPAR_MuteEnabled | True
Audio Output Line[1/1] Delay DelayMs | INT_0_290 | 0
Audio Output Line[1/1] Delay Mode | TTPAR_AudioOutDelayMode | RelativeToHDMI
Audio SoundsAndAlerts RingTone | STR_1_100_Ringtone | Sunrise
Audio SoundsAndAlerts RingVolume | INT_0_100 | 50
Cameras Camera[1/1] Backlight DefaultMode | TTPAR_OnOff | Off
Cameras Camera[1/1] Brightness DefaultLevel | INT_1_31 | 20
Cameras Camera[1/1] Brightness Mode | TTPAR_AutoManual | Auto
Cameras Camera[1/1] Flip | TTPAR_OnOffAuto | Auto
Cameras Camera[1/1] Focus Mode | TTPAR_AutoManual | Auto
Cameras Camera[1/1] Gamma Level | INT_0_7 | 0
Cameras Camera[1/1] Gamma Mode | TTPAR_AutoManual | Auto
Cameras Camera[1/1] IrSensor | TTPAR_OnOff | On
Cameras Camera[1/1] Mirror | TTPAR_OnOffAuto | Auto
Cameras Camera[1/1] Whitebalance Level | INT_1_16 | 1
Cameras Camera[1/1] Whitebalance Mode | TTPAR_AutoManual | Auto
Cameras Preset TriggerAutofocus | TTPAR_OnOffAuto | Auto
Conference AutoAnswer Delay | INT_0_50 | 0
Conference AutoAnswer Mode | TTPAR_OnOff | Off
Conference AutoAnswer Mute | TTPAR_OnOff | Off
Conference DefaultCall Protocol | TTPAR_CallProtocol | Auto
Conference DefaultCall Rate | INT_64_6000 | 6000
Conference DoNotDisturb DefaultTimeout | INT_1_1440 | 60
Conference Encryption Mode | TTPAR_BestEffortOnOff | BestEffort
Conference FarEndControl Mode | TTPAR_OnOff | On
Conference MaxReceiveCallRate | INT_64_6000 | 6000
Conference MaxTotalReceiveCallRate | INT_64_6000 | 6000
Conference MaxTotalTransmitCallRate | INT_64_6000 | 6000
Conference MaxTransmitCallRate | INT_64_6000 | 6000
Conference MultiStream Mode | TTPAR_Off | Off
H323 Authentication LoginName | STR_0_50_NoFilt |
H323 Authentication Mode | TTPAR_OnOff | Off
H323 Authentication Password | PASSWORD_0_50_NoFilt |
H323 CallSetup Mode | TTPAR_H323_GkMode | Gatekeeper
H323 Encryption KeySize | TTPAR_H323_EncKeySize | Min1024bit
H323 Gatekeeper Address | STR_0_255_NoFilt |
H323 H323Alias E164 | STR_0_30_NoFilt |
H323 H323Alias ID | STR_0_49_NoFilt |
H323 NAT Address | STR_0_64_NoFilt |
H323 NAT Mode | TTPAR_OnOffAuto | Off
Network[1/1] DNS Domain Name | STR_0_64_NoFilt |
Network[1/1] DNS Server[1/3] Address | STR_0_64_IPv4v6 |
Network[1/1] DNS Server[2/3] Address | STR_0_64_IPv4v6 |
Network[1/1] DNS Server[3/3] Address | STR_0_64_IPv4v6 |
Network[1/1] IEEE8021X AnonymousIdentity | STR_0_64_NoFilt |
Network[1/1] IEEE8021X Eap Md5 | TTPAR_OnOff | On
Network[1/1] IEEE8021X Eap Peap | TTPAR_OnOff | On
Network[1/1] IEEE8021X Eap Tls | TTPAR_OnOff | On
Network[1/1] IEEE8021X Eap Ttls | TTPAR_OnOff | On
Network[1/1] IEEE8021X Identity | STR_0_64_NoFilt |
Network[1/1] IEEE8021X Mode | TTPAR_OnOff | Off
Network[1/1] IEEE8021X Password | PASSWORD_0_50_NoFilt |
Network[1/1] IEEE8021X TlsVerify | TTPAR_OnOff | Off
Network[1/1] IEEE8021X UseClientCertificate | TTPAR_OnOff | Off
Network[1/1] IPStack | TTPAR_IpProtocolWithDual | Dual
Network[1/1] IPv4 Address | STR_0_64_IPv4 |
Network[1/1] IPv4 Assignment | TTPAR_IpAssignment | DHCP
Network[1/1] IPv4 Gateway | STR_0_64_IPv4 |
Network[1/1] IPv4 SubnetMask | STR_0_64_IPv4 |
Network[1/1] IPv6 Address | STR_0_64_IPv6WithNetmask |
Network[1/1] IPv6 Assignment | TTPAR_IPv6Assignment | Autoconf
Network[1/1] IPv6 DHCPOptions | TTPAR_OnOff | On
Network[1/1] IPv6 Gateway | STR_0_64_IPv6 |
Network[1/1] MTU | INT_576_1500 | 1500
Network[1/1] QoS Diffserv Audio | INT_0_63 | 0
Network[1/1] QoS Diffserv Data | INT_0_63 | 0
Network[1/1] QoS Diffserv ICMPv6 | INT_0_63 | 0
Network[1/1] QoS Diffserv NTP | INT_0_63 | 0
Network[1/1] QoS Diffserv Signalling | INT_0_63 | 0
Network[1/1] QoS Diffserv Video | INT_0_63 | 0
Network[1/1] QoS Mode | TTPAR_QoSMode | Diffserv
Network[1/1] RemoteAccess Allow | STR_0_255_IP-List |
Network[1/1] Speed | TTPAR_InterfaceSpeed | Auto
Network[1/1] VLAN Voice Mode | TTPAR_Dot1qMode | Auto
Network[1/1] VLAN Voice VlanId | INT_1_4094 | 1
NetworkServices CDP Mode | TTPAR_OnOff | On
NetworkServices H323 Mode | TTPAR_OnOff | On
NetworkServices HTTP Mode | TTPAR_HTTPModes | HTTP+HTTPS
NetworkServices HTTPS Server MinimumTLSVersion | TTPAR_TLSVersions_min_11 | TLSv1.1
NetworkServices HTTPS StrictTransportSecurity | TTPAR_OnOff | Off
NetworkServices HTTPS VerifyClientCertificate | TTPAR_OnOff | Off
NetworkServices HTTPS VerifyServerCertificate | TTPAR_OnOff | Off
NetworkServices NTP Mode | TTPAR_AutoManualOff | Auto
NetworkServices NTP Server[1/3] Address | STR_0_255_NoFilt | 0.tandberg.pool.ntp.org
NetworkServices NTP Server[2/3] Address | STR_0_255_NoFilt |
NetworkServices NTP Server[3/3] Address | STR_0_255_NoFilt |
NetworkServices SIP Mode | TTPAR_OnOff | On
NetworkServices SNMP CommunityName | STR_0_50_NoFilt |
NetworkServices SNMP Host[1/3] Address | STR_0_255_NoFilt |
NetworkServices SNMP Host[2/3] Address | STR_0_255_NoFilt |
NetworkServices SNMP Host[3/3] Address | STR_0_255_NoFilt |
NetworkServices SNMP Mode | TTPAR_SnmpService | ReadOnly
NetworkServices SNMP SystemContact | STR_0_50_NoFilt |
NetworkServices SNMP SystemLocation | STR_0_50_NoFilt |
NetworkServices SSH Mode | TTPAR_OnOff | On
NetworkServices Telnet Mode | TTPAR_OnOff | Off
NetworkServices UPnP Mode | TTPAR_OnOff | On
NetworkServices WelcomeText | TTPAR_OnOff | On
Peripherals Profile Cameras | TTPAR_CameraCount | Minimum1
Peripherals Profile ControlSystems | TTPAR_ControlSystemsCount | NotSet
Peripherals Profile TouchPanels | TTPAR_TouchPanelCount | Minimum1
Phonebook Server[1/1] ID | STR_0_64_NoFilt |
Phonebook Server[1/1] Type | TTPAR_PhonebookTypes | Off
Phonebook Server[1/1] URL | STR_0_255_NoInvalidXmlChars |
Provisioning Connectivity | TTPAR_ConnectivityVS | Auto
Provisioning ExternalManager Address | STR_0_64_NoFilt |
Provisioning ExternalManager AlternateAddress | STR_0_64_NoFilt |
Provisioning ExternalManager Domain | STR_0_64_BasicDomainNameCheck |
Provisioning ExternalManager Path | STR_0_255_NoFilt |
Provisioning ExternalManager Protocol | TTPAR_HttpProtocols | HTTP
Provisioning HttpMethod | TTPAR_HttpMethods | POST
Provisioning LoginName | STR_0_80_NoFilt |
Provisioning Mode | TTPAR_ProvisioningModes | Auto
Provisioning Password | PASSWORD_0_64_NoFilt |
Proximity Mode | TTPAR_OnOff | On
Proximity Services CallControl | TTPAR_EnabledDisabled | Disabled
Proximity Services ContentShare FromClients | TTPAR_EnabledDisabled | Enabled
Proximity Services ContentShare ToClients | TTPAR_EnabledDisabled | Disabled
RoomAnalytics PeoplePresenceDetector | TTPAR_OnOff | Off
SIP Authentication Password | PASSWORD_0_128_NoFilt |
SIP Authentication UserName | STR_0_128_NoFilt |
SIP DefaultTransport | TTPAR_SIP_DEF_TRNSP | Auto
SIP DisplayName | STR_0_550_NoFilt |
SIP Ice DefaultCandidate | TTPAR_IceDefault | Host
SIP Ice Mode | TTPAR_IceMode | Auto
SIP ListenPort | TTPAR_OnOff | On
SIP Proxy[1/4] Address | STR_0_255_NoFilt |
SIP Proxy[2/4] Address | STR_0_255_NoFilt |
SIP Proxy[3/4] Address | STR_0_255_NoFilt |
SIP Proxy[4/4] Address | STR_0_255_NoFilt |
SIP Turn Password | PASSWORD_0_128_NoFilt |
SIP Turn Server | STR_0_255_NoFilt |
SIP Turn UserName | STR_0_128_NoFilt |
SIP URI | STR_0_255_NoFilt |
SerialPort BaudRate | TTPAR_SerialBaud | 38400
SerialPort LoginRequired | TTPAR_OnOff | On
SerialPort Mode | TTPAR_OnOff | On
Standby BootAction | TTPAR_WakeupBootAction | DefaultCameraPosition
Standby Control | TTPAR_OnOff | On
Standby Delay | INT_1_480 | 10
Standby StandbyAction | TTPAR_StandbyAction | PrivacyPosition
Standby WakeupAction | TTPAR_WakeupBootAction | RestoreCameraPosition
SystemUnit IrSensor | TTPAR_IRSensorSetting | Auto
SystemUnit Name | STR_0_50_NoFilt |
Time DateFormat | TTPAR_DateFormat | DD_MM_YY
Time TimeFormat | TTPAR_TimeFormat | 24H
Time Zone | TTPAR_OlsonTimeZone | Etc/UTC
UserInterface ContactInfo Type | TTPAR_ContactInfoVs | Auto
UserInterface KeyTones Mode | TTPAR_OnOff | On
UserInterface Language | TTPAR_MenuLanguages | English
UserInterface OSD Output | TTPAR_OsdOutput_2_Auto | Auto
UserManagement LDAP Admin Filter | STR_0_1024_NoFilt |
UserManagement LDAP Admin Group | STR_0_255_NoFilt |
UserManagement LDAP Attribute | STR_0_255_NoFilt |
UserManagement LDAP BaseDN | STR_0_255_NoFilt |
UserManagement LDAP Encryption | TTPAR_LDAPEncryption | LDAPS
UserManagement LDAP MinimumTLSVersion | TTPAR_TLSVersions_min_10 | TLSv1.2
UserManagement LDAP Mode | TTPAR_OnOff | Off
UserManagement LDAP Server Address | STR_0_255_NoFilt |
UserManagement LDAP Server Port | INT_0_65535 | 0
UserManagement LDAP VerifyServerCertificate | TTPAR_OnOff | On
Video DefaultMainSource | TTPAR_PresentationSources_3 | 1
Video Input Connector[1/2] CameraControl CameraId | TTPAR_CameraIdOneCamera | 1
Video Input Connector[1/2] CameraControl Mode | TTPAR_OnOff | On
Video Input Connector[1/2] InputSourceType | TTPAR_VideoInputSourceType | camera
Video Input Connector[1/2] Name | STR_0_50_NoFilt |
Video Input Connector[1/2] PresentationSelection | TTPAR_VideoInputPresentationSelection | Manual
Video Input Connector[1/2] Quality | TTPAR_MotionSharpness | Motion
Video Input Connector[1/2] Visibility | TTPAR_ConnectorVisibility | Never
Video Input Connector[2/2] CameraControl CameraId | TTPAR_CameraIdOneCamera | 1
Video Input Connector[2/2] CameraControl Mode | TTPAR_Off | Off
Video Input Connector[2/2] DviType | TTPAR_DviType | AutoDetect
Video Input Connector[2/2] InputSourceType | TTPAR_VideoInputSourceType | PC
Video Input Connector[2/2] Name | STR_0_50_NoFilt |
Video Input Connector[2/2] PresentationSelection | TTPAR_VideoInputPresentationSelection | OnConnect
Video Input Connector[2/2] Quality | TTPAR_MotionSharpness | Sharpness
Video Input Connector[2/2] Visibility | TTPAR_ConnectorVisibility | Always
Video Monitors | TTPAR_Monitors_Dual | Auto
Video Output Connector[1/2] CEC Mode | TTPAR_OnOff | On
Video Output Connector[1/2] MonitorRole | TTPAR_MonitorRole_Dual_Auto | Auto
Video Output Connector[1/2] OverscanLevel | TTPAR_OverscanLevel | None
Video Output Connector[1/2] Resolution | TTPAR_ScreenSettingsLimited | Auto
Video Output Connector[2/2] CEC Mode | TTPAR_OnOff | On
Video Output Connector[2/2] MonitorRole | TTPAR_MonitorRole_Dual_Auto | Auto
Video Output Connector[2/2] OverscanLevel | TTPAR_OverscanLevel | None
Video Output Connector[2/2] Resolution | TTPAR_ScreenSettingsLimited | Auto
Video Presentation DefaultSource | TTPAR_PresentationSources_2 | 2
Video Selfview Default FullscreenMode | TTPAR_OnOffCurrent | Current
Video Selfview Default Mode | TTPAR_OnOffCurrent | Current
Video Selfview Default OnMonitorRole | TTPAR_MonitorRole_Dual_BasicCurrent | Current
Video Selfview Default PIPPosition | TTPAR_PIPPositionCurrent | Current
Video Selfview OnCall Duration | INT_1_60 | 10
Video Selfview OnCall Mode | TTPAR_OnOff | On
"""

# --- TC 7.3 configuration (SX80) --------------------------------------------------------------
# Paths from the TC7.3 guide extraction (cisco.md §3). Defaults UNSURE where the guide
# does not print them; TC keeps separate HTTP and HTTPS switches (On/Off each).

TC_CONFIGURATION = """
Audio DefaultVolume | INT_0_100 | 50
Conference[1/1] AutoAnswer Delay | INT_0_50 | 0
Conference[1/1] AutoAnswer Mode | TTPAR_OnOff | Off
Conference[1/1] AutoAnswer Mute | TTPAR_OnOff | Off
Conference[1/1] DefaultCall Protocol | TTPAR_CallProtocol_TC | Auto
Conference[1/1] DefaultCall Rate | INT_64_6000 | 6000
Conference[1/1] Encryption Mode | TTPAR_BestEffortOnOff | BestEffort
Conference[1/1] FarEndControl Mode | TTPAR_OnOff | On
Conference[1/1] MaxReceiveCallRate | INT_64_6000 | 6000
Conference[1/1] MaxTransmitCallRate | INT_64_6000 | 6000
H323 NAT Address | STR_0_64_NoFilt |
H323 NAT Mode | TTPAR_OnOffAuto | Off
H323 Profile[1/1] Authentication LoginName | STR_0_50_NoFilt |
H323 Profile[1/1] Authentication Mode | TTPAR_OnOff | Off
H323 Profile[1/1] Authentication Password | PASSWORD_0_50_NoFilt |
H323 Profile[1/1] CallSetup Mode | TTPAR_H323_GkMode | Gatekeeper
H323 Profile[1/1] Gatekeeper Address | STR_0_255_NoFilt |
H323 Profile[1/1] Gatekeeper Discovery | TTPAR_AutoManual | Manual
H323 Profile[1/1] H323Alias E164 | STR_0_30_NoFilt |
H323 Profile[1/1] H323Alias ID | STR_0_49_NoFilt |
Network[1/1] DNS Domain Name | STR_0_64_NoFilt |
Network[1/1] DNS Server[1/3] Address | STR_0_64_IPv4v6 |
Network[1/1] DNS Server[2/3] Address | STR_0_64_IPv4v6 |
Network[1/1] DNS Server[3/3] Address | STR_0_64_IPv4v6 |
Network[1/1] IPStack | TTPAR_IpProtocolWithDual | Dual
Network[1/1] IPv4 Address | STR_0_64_IPv4 |
Network[1/1] IPv4 Assignment | TTPAR_IpAssignment | DHCP
Network[1/1] IPv4 Gateway | STR_0_64_IPv4 |
Network[1/1] IPv4 SubnetMask | STR_0_64_IPv4 |
Network[1/1] MTU | INT_576_1500 | 1500
Network[1/1] Speed | TTPAR_InterfaceSpeed | Auto
NetworkServices CDP Mode | TTPAR_OnOff | On
NetworkServices H323 Mode | TTPAR_OnOff | On
NetworkServices HTTP Mode | TTPAR_OnOff | On
NetworkServices HTTPS Mode | TTPAR_OnOff | On
NetworkServices HTTPS OCSP Mode | TTPAR_OnOff | Off
NetworkServices HTTPS OCSP URL | STR_0_255_NoFilt |
NetworkServices HTTPS VerifyClientCertificate | TTPAR_OnOff | Off
NetworkServices HTTPS VerifyServerCertificate | TTPAR_OnOff | Off
NetworkServices NTP Address | STR_0_255_NoFilt | 0.tandberg.pool.ntp.org
NetworkServices NTP Mode | TTPAR_AutoManualOff | Auto
NetworkServices SIP Mode | TTPAR_OnOff | On
NetworkServices SNMP CommunityName | STR_0_50_NoFilt |
NetworkServices SNMP Mode | TTPAR_SnmpService | ReadOnly
NetworkServices SNMP SystemContact | STR_0_50_NoFilt |
NetworkServices SNMP SystemLocation | STR_0_50_NoFilt |
NetworkServices SSH Mode | TTPAR_OnOff | On
NetworkServices Telnet Mode | TTPAR_OnOff | Off
NetworkServices UPnP Mode | TTPAR_OnOff | On
NetworkServices WelcomeText | TTPAR_OnOff | On
NetworkServices XMLAPI Mode | TTPAR_OnOff | On
Provisioning ExternalManager Address | STR_0_64_NoFilt |
Provisioning ExternalManager Path | STR_0_255_NoFilt |
Provisioning ExternalManager Protocol | TTPAR_HttpProtocols | HTTP
Provisioning HttpMethod | TTPAR_HttpMethods | POST
Provisioning LoginName | STR_0_80_NoFilt |
Provisioning Mode | TTPAR_TCProvisioningModes | Off
Provisioning Password | PASSWORD_0_64_NoFilt |
SIP ANAT | TTPAR_OnOff | Off
SIP AuthenticateTransferror | TTPAR_OnOff | Off
SIP ListenPort | TTPAR_OnOff | On
SIP OCSP DefaultResponder | STR_0_255_NoFilt |
SIP OCSP Mode | TTPAR_OnOff | Off
SIP PreferredIPMedia | TTPAR_IPVersion | IPv4
SIP PreferredIPSignaling | TTPAR_IPVersion | IPv4
SIP Profile[1/1] Authentication[1/1] LoginName | STR_0_128_NoFilt |
SIP Profile[1/1] Authentication[1/1] Password | PASSWORD_0_128_NoFilt |
SIP Profile[1/1] DefaultTransport | TTPAR_SIP_DEF_TRNSP_TC | Auto
SIP Profile[1/1] DisplayName | STR_0_550_NoFilt |
SIP Profile[1/1] Ice DefaultCandidate | TTPAR_IceDefault | Host
SIP Profile[1/1] Ice Mode | TTPAR_IceMode | Off
SIP Profile[1/1] Line | TTPAR_SIP_LINE | Private
SIP Profile[1/1] Mailbox | STR_0_255_NoFilt |
SIP Profile[1/1] Outbound | TTPAR_OnOff | Off
SIP Profile[1/1] Proxy[1/4] Address | STR_0_255_NoFilt |
SIP Profile[1/1] Proxy[1/4] Discovery | TTPAR_SIP_PROXY_DISCOVERY | Manual
SIP Profile[1/1] Proxy[2/4] Address | STR_0_255_NoFilt |
SIP Profile[1/1] Proxy[2/4] Discovery | TTPAR_SIP_PROXY_DISCOVERY | Manual
SIP Profile[1/1] Proxy[3/4] Address | STR_0_255_NoFilt |
SIP Profile[1/1] Proxy[3/4] Discovery | TTPAR_SIP_PROXY_DISCOVERY | Manual
SIP Profile[1/1] Proxy[4/4] Address | STR_0_255_NoFilt |
SIP Profile[1/1] Proxy[4/4] Discovery | TTPAR_SIP_PROXY_DISCOVERY | Manual
SIP Profile[1/1] TlsVerify | TTPAR_OnOff | Off
SIP Profile[1/1] Turn BandwidthProbe | TTPAR_OnOff | On
SIP Profile[1/1] Turn DiscoverMode | TTPAR_OnOff | On
SIP Profile[1/1] Turn DropRflx | TTPAR_OnOff | Off
SIP Profile[1/1] Turn Password | PASSWORD_0_128_NoFilt |
SIP Profile[1/1] Turn Server | STR_0_255_NoFilt |
SIP Profile[1/1] Turn UserName | STR_0_128_NoFilt |
SIP Profile[1/1] Type | TTPAR_SIP_SERVER_TYPE_TC | Standard
SIP Profile[1/1] URI | STR_0_255_NoFilt |
SerialPort BaudRate | TTPAR_SerialBaud | 38400
SerialPort LoginRequired | TTPAR_OnOff | On
SerialPort Mode | TTPAR_OnOff | On
Standby Control | TTPAR_OnOff | On
Standby Delay | INT_1_480 | 10
SystemUnit Name | STR_0_50_NoFilt |
Time DateFormat | TTPAR_DateFormat | DD_MM_YY
Time TimeFormat | TTPAR_TimeFormat | 24H
Time Zone | TTPAR_OlsonTimeZone | GMT
UserInterface Language | TTPAR_MenuLanguages | English
"""

# --- RoomOS 11 configuration (Room Kit, Room Bar, Desk Pro) ------------------------------------
# No RoomOS configuration dump was recorded: the CE tree, with what the notes say differs.
# `SIP TlsVerify` and `SIP Type` are listed for CE 9.15/RoomOS (cisco.md §3); HTTPS is the
# default HTTP Mode after CE 9.3 ("HTTP+HTTPS ... was the old default in CE9.3 and
# earlier", cisco.md §1.3), so a RoomOS unit redirects plain HTTP to HTTPS out of the box.
ROOMOS_CONFIGURATION = (
    CE_CONFIGURATION
    .replace("NetworkServices HTTP Mode | TTPAR_HTTPModes | HTTP+HTTPS", "NetworkServices HTTP Mode | TTPAR_HTTPModes | HTTPS")
    .replace("SIP Turn Password |", "SIP TlsVerify | TTPAR_OnOff | Off\nSIP Turn Password |")
    .replace("SIP URI |", "SIP Type | TTPAR_SIP_SERVER_TYPE | Standard\nSIP URI |")
)

# Facts about the three firmware lines the lab models. Release dates of CE 9.4.0 and
# TC 7.3.6, and the Software Name codes of SX10/SX80, are UNSURE (cisco.md §5).
RELEASE_DATES = {"ce8.2.1": "2016-06-28", "ce9.4.0": "2018-06-21", "tc7.3.6": "2016-05-19",
                 "ce11.19.1": "2024-08-02"}  # the RoomOS date is the recorded Room Bar's
# The Room Bar's `s53300` is recorded; the Room Kit's and Desk Pro's codes are UNSURE.
SOFTWARE_NAMES = {"SX10": "s52030", "SX20": "s52010", "SX80": "s52020", "Room Bar": "s53300",
                  "Room Kit": "s53200", "Desk Pro": "s53400"}
